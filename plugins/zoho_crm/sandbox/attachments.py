"""Attachments on Zoho CRM records, as v8 serves them (``/crm/v8/{module}/{record_id}/Attachments``).

Checked against ``zoho-crm/attachments.json`` of the oracles:
- ``POST`` with a ``multipart/form-data`` body whose part ``file`` is the file: ``200`` and the
  ``SUCCESS`` envelope with the new attachment's id and audit fields. A file over 20 MB is refused
  (``FILE_SIZE_MORE_THAN_ALLOWED``, as Zoho does); no ``file`` part is ``INVALID_REQUEST``.
- ``GET`` lists a record's attachments newest first; ``fields`` is required, ``page``/``per_page``
  page it; none is ``204`` with no body.
- ``GET .../Attachments/{id}`` downloads the file (its own content type, the name in
  ``Content-Disposition``); ``DELETE .../Attachments/{id}`` removes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

from hub.sandbox.service import Call, json_response, route

from . import metadata
from .state import stamp

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_PER_PAGE = 200


@dataclass
class StoredFile:
    id: str
    module: str
    parent_id: str
    file_name: str
    content_type: str
    content: bytes
    created: int
    file_id: str


def _user() -> dict[str, Any]:
    return {"name": metadata.USER_NAME, "id": metadata.USER_ID, "email": metadata.USER_EMAIL}


class ZohoAttachments:
    """Mixed into the Zoho CRM stand-in; its ``reset`` calls ``reset_attachments``."""

    # What the stand-in provides (declared only: the annotations make no attributes).
    store: Any
    _module: Any
    _int_param: Any

    def reset_attachments(self) -> None:
        self.attachments: dict[str, StoredFile] = {}

    def _parent(self, module: str, record_id: str) -> tuple[str, Any]:
        from .routes import ZohoError

        module = self._module(module)
        parent = self.store.find(module, record_id)
        if parent is None:
            raise ZohoError(400, "INVALID_DATA", "the related id given seems to be invalid",
                            {"resource_path_index": 1})
        return module, parent

    def _entry(self, stored: StoredFile) -> dict[str, Any]:
        parent = self.store.find(stored.module, stored.parent_id)
        return {
            "Owner": _user(), "Modified_By": _user(), "Created_By": _user(),
            "Parent_Id": {"id": stored.parent_id,
                          "name": self.store.display_name(parent) if parent is not None else None},
            "$sharing_permission": "private", "$attachment_type": 1, "id": stored.id,
            "Modified_Time": stamp(stored.created), "Created_Time": stamp(stored.created),
            "File_Name": stored.file_name, "Size": str(len(stored.content)), "$editable": True,
            "$file_id": stored.file_id, "$type": "Attachment", "$se_module": stored.module,
            "$state": "save", "$link_url": None,
        }

    @route("/crm/v8/<module>/<record_id>/Attachments", methods=("POST",))
    def upload_attachment(self, call: Call, module: str, record_id: str) -> Response:
        from .routes import ZohoError

        module, parent = self._parent(module, record_id)
        upload = call.request.files.get("file")
        if upload is None or not upload.filename:
            raise ZohoError(400, "INVALID_REQUEST", "unable to process your request. please verify whether "
                            "you have entered proper method name, parameter and parameter values.",
                            {"expected_type": "file"})
        content = upload.read()
        if len(content) > MAX_FILE_BYTES:
            raise ZohoError(400, "FILE_SIZE_MORE_THAN_ALLOWED", "Cannot upload files more than 20 MB",
                            {"allowed_size": MAX_FILE_BYTES})
        attachment_id = self.store._new_id()
        now = int(time.time())
        stored = StoredFile(attachment_id, module, parent.id, upload.filename,
                            upload.mimetype or "application/octet-stream", content, now,
                            f"sandbox{attachment_id}")
        self.attachments[attachment_id] = stored
        user = {"name": metadata.USER_NAME, "id": metadata.USER_ID}
        return json_response({"data": [{"code": "SUCCESS", "details": {
            "Modified_Time": stamp(now), "Modified_By": user, "Created_Time": stamp(now), "id": attachment_id,
            "Created_By": user}, "message": "attachment uploaded successfully", "status": "success"}]})

    @route("/crm/v8/<module>/<record_id>/Attachments")
    def list_attachments(self, call: Call, module: str, record_id: str) -> Response:
        from .routes import ZohoError, _empty

        module, parent = self._parent(module, record_id)
        if not call.args.get("fields"):
            raise ZohoError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                            {"param_name": "fields"})
        per_page = self._int_param(call, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
        page = self._int_param(call, "page", 1, 1, None)
        mine = sorted((a for a in self.attachments.values()
                       if a.module == module and a.parent_id == parent.id),
                      key=lambda a: (a.created, int(a.id)), reverse=True)
        chunk = mine[(page - 1) * per_page: page * per_page]
        if not chunk:
            return _empty(204)
        return json_response({"data": [self._entry(a) for a in chunk],
                              "info": {"per_page": per_page, "count": len(chunk), "page": page,
                                       "more_records": page * per_page < len(mine)}})

    def _attachment(self, module: str, record_id: str, attachment_id: str) -> StoredFile:
        from .routes import ZohoError

        module, parent = self._parent(module, record_id)
        stored = self.attachments.get(attachment_id)
        if stored is None or stored.module != module or stored.parent_id != parent.id:
            raise ZohoError(400, "INVALID_DATA", "the id given seems to be invalid",
                            {"resource_path_index": 3})
        return stored

    @route("/crm/v8/<module>/<record_id>/Attachments/<attachment_id>")
    def download_attachment(self, call: Call, module: str, record_id: str, attachment_id: str) -> Response:
        stored = self._attachment(module, record_id, attachment_id)
        return Response(stored.content, status=200, mimetype=stored.content_type,
                        headers={"Content-Disposition": f'attachment;filename="{stored.file_name}"'})

    @route("/crm/v8/<module>/<record_id>/Attachments/<attachment_id>", methods=("DELETE",))
    def delete_attachment(self, call: Call, module: str, record_id: str, attachment_id: str) -> Response:
        stored = self._attachment(module, record_id, attachment_id)
        del self.attachments[stored.id]
        return json_response({"data": [{"code": "SUCCESS", "details": {"id": stored.id},
                                        "message": "record deleted", "status": "success"}]})
