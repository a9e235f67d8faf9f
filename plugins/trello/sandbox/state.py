"""State of the Trello stand-in: members, boards, lists, labels, cards and actions, and their JSON.

Kept apart from the HTTP routes so the shapes (which follow the recorded real exchanges in
``shared/oracles/trello``) can be read in one place. Everything here is plain data; the service
serialises access (the sandbox server holds one lock around every request).
"""

from __future__ import annotations

import datetime as dt
import random
import re
import string
from dataclasses import dataclass, field
from typing import Any

ID_RE = re.compile(r"^[0-9a-fA-F]{24}$")

#: Trello's six default label colours, in the order a new board gets them.
DEFAULT_LABEL_COLORS = ("green", "yellow", "orange", "red", "purple", "blue")
LABEL_NAME_COLORS = ("green", "yellow", "orange", "red", "purple", "blue", "sky", "lime", "pink", "black")
DEFAULT_LISTS = ("To Do", "Doing", "Done")


def iso(moment: dt.datetime) -> str:
    """Trello's timestamp format: UTC, milliseconds, ``Z``."""
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class IdMaker:
    """24-hex ids like Trello's (MongoDB ObjectIds): 8 hex digits of creation time, then a counter.

    Ids therefore sort by creation, which is what ``since``/``before`` with an id rely on.
    """

    def __init__(self, start: int) -> None:
        self.counter = start

    def new(self, at: dt.datetime) -> str:
        self.counter += 1
        return f"{int(at.timestamp()):08x}{self.counter:016x}"


def id_time(object_id: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(object_id[:8], 16), dt.UTC)


@dataclass
class Member:
    id: str
    username: str
    full_name: str

    @property
    def initials(self) -> str:
        return "".join(part[0] for part in self.full_name.split()[:2]).upper()

    def brief(self) -> dict[str, Any]:
        """The member object nested in actions and card member lists."""
        return {
            "id": self.id, "username": self.username, "activityBlocked": False, "avatarHash": None,
            "avatarUrl": None, "fullName": self.full_name, "idMemberReferrer": None,
            "initials": self.initials, "nonPublic": {}, "nonPublicAvailable": True,
        }

    def full(self, board_ids: list[str]) -> dict[str, Any]:
        return {
            **self.brief(), "aaBlockSyncUntil": None, "bio": "", "bioData": None, "confirmed": True,
            "memberType": "normal",
            "aaId": None, "aaEmail": None, "aaEnrolledDate": None, "avatarSource": "none",
            "credentialsRemovedCount": 0, "email": f"{self.username}@example.invalid",
            "gravatarHash": None, "idBoards": board_ids, "idOrganizations": [],
            "idEnterprise": None, "idEnterprisesAdmin": [], "idEnterprisesDeactivated": [],
            "idPremOrgsAdmin": [], "isAaMastered": False, "ixUpdate": "1", "limits": {},
            "loginTypes": ["password"], "marketingOptIn": {"optedIn": False, "date": None},
            "messagesDismissed": [], "oneTimeMessagesDismissed": [],
            "prefs": {"privacy": {"fullName": "public", "avatar": "public"}, "sendSummaries": False,
                      "minutesBetweenSummaries": 60, "minutesBeforeDeadlineToNotify": 1440,
                      "colorBlind": False, "locale": "en-US"},
            "premiumFeatures": [], "products": [], "status": "disconnected", "trophies": [],
            "uploadedAvatarHash": None, "uploadedAvatarUrl": None,
            "url": f"https://trello.com/{self.username}",
        }

    def summary(self) -> dict[str, Any]:
        """What ``GET /1/boards/{id}/members`` lists."""
        return {"id": self.id, "username": self.username, "fullName": self.full_name}


@dataclass
class Board:
    id: str
    name: str
    desc: str
    short_link: str
    last_activity: dt.datetime
    admin: str
    closed: bool = False
    members: list[str] = field(default_factory=list)
    next_short: int = 1

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "desc": self.desc,
            "descData": {"emoji": {}} if self.desc else None, "closed": self.closed,
            "dateClosed": None, "idOrganization": None, "idEnterprise": None, "pinned": False,
            "starred": False, "subscribed": False, "shortLink": self.short_link,
            "url": f"https://trello.com/b/{self.short_link}/{slug(self.name)}",
            "shortUrl": f"https://trello.com/b/{self.short_link}",
            "dateLastActivity": iso(self.last_activity), "dateLastView": None,
            "idMemberCreator": self.admin, "idTags": [], "powerUps": [], "premiumFeatures": [],
            "prefs": {
                "permissionLevel": "private", "hideVotes": False, "voting": "disabled",
                "comments": "members", "invitations": "members", "selfJoin": True, "cardCovers": True,
                "isTemplate": False, "cardAging": "regular", "calendarFeedEnabled": False,
                "background": "blue", "backgroundImage": None, "backgroundImageScaled": None,
                "backgroundTile": False, "backgroundBrightness": "dark", "backgroundColor": "#0079BF",
                "backgroundBottomColor": "#0079BF", "backgroundTopColor": "#0079BF",
                "canBePublic": True, "canBeEnterprise": True, "canBeOrg": True, "canBePrivate": True,
                "canInvite": True,
            },
            "labelNames": dict.fromkeys(LABEL_NAME_COLORS, ""),
            "memberships": [
                {"id": f"{member[:8]}{self.id[8:16]}{member[-8:]}", "idMember": member,
                 "memberType": "admin" if member == self.admin else "normal", "unconfirmed": False,
                 "deactivated": False}
                for member in self.members
            ],
            "limits": {},
        }


@dataclass
class TrelloList:
    id: str
    name: str
    board: str
    pos: float
    closed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "closed": self.closed, "pos": num(self.pos),
                "softLimit": None, "idBoard": self.board, "subscribed": False, "limits": {}}

    def ref(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


@dataclass
class Label:
    id: str
    board: str
    name: str
    color: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "idBoard": self.board, "name": self.name, "color": self.color}


@dataclass
class Card:
    id: str
    name: str
    desc: str
    board: str
    #: The card's list (``idList`` on the wire); not ``list``, which would shadow the builtin.
    list_id: str
    pos: float
    id_short: int
    short_link: str
    last_activity: dt.datetime
    closed: bool = False
    due: str | None = None
    due_complete: bool = False
    start: str | None = None
    labels: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    comments: int = 0

    def ref(self) -> dict[str, Any]:
        """The card as actions name it."""
        return {"id": self.id, "name": self.name, "idShort": self.id_short, "shortLink": self.short_link}

    def to_json(self, labels: dict[str, Label]) -> dict[str, Any]:
        url_slug = f"{self.id_short}-{slug(self.name)}" if self.name else str(self.id_short)
        return {
            "id": self.id, "badges": {
                "attachmentsByType": {"trello": {"board": 0, "card": 0}}, "location": False,
                "votes": 0, "viewingMemberVoted": False, "subscribed": False, "fogbugz": "",
                "checkItems": 0, "checkItemsChecked": 0, "checkItemsEarliestDue": None,
                "comments": self.comments, "attachments": 0, "description": bool(self.desc),
                "due": self.due, "dueComplete": self.due_complete, "start": self.start,
            },
            "checkItemStates": [], "closed": self.closed, "dueComplete": self.due_complete,
            "dateLastActivity": iso(self.last_activity), "desc": self.desc,
            "descData": {"emoji": {}}, "due": self.due, "dueReminder": None, "email": None,
            "idBoard": self.board, "idChecklists": [], "idList": self.list_id,
            "idMembers": list(self.members), "idMembersVoted": [], "idShort": self.id_short,
            "idAttachmentCover": None, "idLabels": list(self.labels),
            "labels": [labels[label].to_json() for label in self.labels if label in labels],
            "manualCoverAttachment": False, "name": self.name, "pos": num(self.pos),
            "shortLink": self.short_link, "shortUrl": f"https://trello.com/c/{self.short_link}",
            "start": self.start, "subscribed": False, "isTemplate": False, "cardRole": None,
            "url": f"https://trello.com/c/{self.short_link}/{url_slug}",
            "cover": {"idAttachment": None, "color": None, "idUploadedBackground": None,
                      "size": "normal", "brightness": "dark", "idPlugin": None},
        }


@dataclass
class Action:
    id: str
    type: str
    creator: str
    date: dt.datetime
    board: str
    data: dict[str, Any]
    #: The card the action is about (to list a card's actions after the card is gone).
    card: str | None = None
    list_id: str | None = None

    def to_json(self, creator: Member | None, *, with_creator: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "idMemberCreator": self.creator, "data": self.data,
            "appCreator": None, "type": self.type, "date": iso(self.date),
            "limits": _COMMENT_LIMITS if self.type == "commentCard" else {},
            "display": self._display(creator),
        }
        if with_creator and creator is not None:
            out["memberCreator"] = creator.brief()
        return out

    def _display(self, creator: Member | None) -> dict[str, Any]:
        entities: dict[str, Any] = {}
        if self.type == "commentCard" and "card" in self.data:
            entities["contextOn"] = {"type": "translatable", "translationKey": "action_on",
                                     "hideIfContext": True, "idContext": self.data["card"]["id"]}
        if "card" in self.data:
            card = self.data["card"]
            entities["card"] = {"type": "card", "id": card.get("id"), "shortLink": card.get("shortLink"),
                                "text": card.get("name", "")}
        if "list" in self.data:
            entities["list"] = {"type": "list", "id": self.data["list"]["id"],
                                "text": self.data["list"].get("name", "")}
        if self.type == "commentCard":
            entities["comment"] = {"type": "comment", "text": self.data.get("text", "")}
        if creator is not None:
            entities["memberCreator"] = {"type": "member", "id": creator.id, "username": creator.username,
                                         "text": creator.full_name}
        return {"translationKey": self._translation_key(), "entities": entities}

    def _translation_key(self) -> str:
        old = self.data.get("old", {})
        if self.type == "commentCard":
            return "action_comment_on_card"
        if self.type == "updateCard" and "idList" in old:
            return "action_move_card_from_list_to_list"
        if self.type == "updateCard" and "closed" in old:
            return "action_archived_card" if self.data["card"].get("closed") else "action_sent_card_to_board"
        if self.type == "updateCard" and old:
            return f"action_changed_{next(iter(old)).lower()}_of_card"
        return "action_" + re.sub(r"(?<!^)(?=[A-Z])", "_", self.type).lower()


_COMMENT_LIMITS = {"reactions": {"perAction": {"status": "ok", "disableAt": 1000, "warnAt": 900},
                                 "uniquePerAction": {"status": "ok", "disableAt": 17, "warnAt": 16}}}


def num(value: float) -> float | int:
    """Positions print as integers when whole, as Trello does (``65535``, ``32767.5``)."""
    return int(value) if float(value).is_integer() else value


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def short_link(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(8))


def parse_when(value: str) -> dt.datetime | None:
    """A date as Trello accepts it in ``due``, ``since`` and ``before``; None when unreadable."""
    text = value.strip()
    if not text:
        return None
    text = re.sub(r"\s+UTC$", "+00:00", text)
    text = re.sub(r"\s*([+-]\d{2}):?(\d{2})$", r"\1:\2", text)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        try:
            moment = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
