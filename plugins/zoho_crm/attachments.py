"""Files attached to Zoho CRM records, through the SDK's ``AttachmentsOperations`` (v8).

What ``pmhub report --publish`` needs: the names of the files on a customer's account (to see
whether this period's report is there already) and uploading one.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.errors import PermanentError

if TYPE_CHECKING:
    from pmhub_plugins.zoho_crm.connector import ZohoCrmConnector

PAGE_SIZE = 200
LISTED_FIELDS = "id,File_Name,Size,Created_Time"


@dataclass(frozen=True)
class Attachment:
    id: str
    file_name: str
    size: int


def _parent(record_id: str) -> int:
    if not str(record_id).isdigit():
        raise PermanentError(f"{record_id!r} is not a Zoho record id")
    return int(record_id)


def list_attachments(connector: ZohoCrmConnector, module: str, record_id: str) -> list[Attachment]:
    """The files attached to one record, newest first (every page)."""
    from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.attachments import AttachmentsOperations
    from zohocrmsdk.src.com.zoho.crm.api.attachments.attachments_operations import GetAttachmentsParam

    parent = _parent(record_id)
    found: list[Attachment] = []
    page = 1
    while True:
        params = ParameterMap()
        params.add(GetAttachmentsParam.fields, LISTED_FIELDS)
        params.add(GetAttachmentsParam.per_page, PAGE_SIZE)
        params.add(GetAttachmentsParam.page, page)
        response = connector._call(f"list attachments of {module}/{record_id}",
                                   lambda p: AttachmentsOperations().get_attachments(parent, module, p),
                                   params)
        body = connector._json(response)
        for row in body.get("data") or []:
            found.append(Attachment(str(row["id"]), str(row.get("File_Name") or ""),
                                    int(row.get("Size") or 0)))
        if not (body.get("info") or {}).get("more_records"):
            return found
        page += 1


def upload_attachment(connector: ZohoCrmConnector, module: str, record_id: str, file_name: str,
                      content: bytes) -> str:
    """Attach ``content`` as ``file_name`` to one record; the new attachment's id."""
    from zohocrmsdk.src.com.zoho.crm.api.attachments import AttachmentsOperations, FileBodyWrapper
    from zohocrmsdk.src.com.zoho.crm.api.util import StreamWrapper

    parent = _parent(record_id)
    body = FileBodyWrapper()
    stream = io.BytesIO(content)
    # The SDK hands the stream to requests, which names the part's file after ``stream.name`` (a
    # file opened by path has one); a nameless stream would reach Zoho as a file called "file".
    stream.name = file_name
    body.set_file(StreamWrapper(name=file_name, stream=stream))
    what = f"attach {file_name} to {module}/{record_id}"
    response = connector._call(what, lambda: AttachmentsOperations().upload_attachments(parent, module, body))
    entry = connector._record_results(what, response)[0]
    if entry.get("status") != "success":
        raise connector._entry_error(what, entry, response.get_status_code())
    return str(entry["details"]["id"])
