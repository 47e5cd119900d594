"""What the Events API sends signoff, as frozen models: checked before the inbox stores it.

Events do not pass through Bolt: the socket handler hands ``events_api`` envelopes to
``ingest`` (all but a stop, which ``stop_events`` reads), and these are what it reads.
``EventEnvelope`` (with ``EventHead``) tells whether an event is for signoff before any
of its values is trusted; ``EventCallback`` is a person's message as the inbox stores
it, every field checked (``slack_fields``); ``HomeOpenedCallback`` is a person opening
the app's Home tab, ``GroupMembersCallback`` a user group gaining or losing members. As
in ``payloads`` (the interactions and commands Bolt routes), unknown fields are ignored:
Slack adds fields freely.

Shapes follow Slack's reference for ``event_callback``: ``app_mention``, ``message`` in
channels, private channels and direct messages, ``app_home_opened`` and
``subteam_members_changed``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, JsonValue

from sessions import InvalidIdError, check_slack_id, check_slack_ts

from .slack_fields import MAX_TEXT, EventId, EventText, Label, SlackId, SlackTs

__all__ = [
    "EditedTs",
    "EventCallback",
    "EventEnvelope",
    "EventHead",
    "GroupMembersCallback",
    "GroupMembersChanged",
    "HomeOpened",
    "HomeOpenedCallback",
    "MessageEvent",
    "SharedFile",
    "SharedMessage",
    "SharedMessages",
]


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class EventHead(_Payload):
    """Enough of any event to tell whether it is for signoff; its values are not used."""

    type: Label
    subtype: JsonValue = None
    user: JsonValue = None
    bot_id: JsonValue = None
    channel: JsonValue = None
    channel_type: JsonValue = None
    ts: JsonValue = None
    thread_ts: JsonValue = None


class EventEnvelope(_Payload):
    """An ``event_callback`` before its event is trusted."""

    type: Literal["event_callback"]
    event: EventHead
    event_id: JsonValue = None
    team_id: JsonValue = None


def _team_or_none(value: object) -> str | None:
    """A team id, or None: a team that cannot be used is no reason to refuse a person's
    message (the thread's team stands in for it)."""
    try:
        return check_slack_id(value)
    except (InvalidIdError, ValueError):
        return None


TeamOrNone = Annotated[str | None, BeforeValidator(_team_or_none)]


def _edited_ts(value: object) -> str | None:
    """The ``ts`` of Slack's ``edited`` ({"user", "ts"}), or None: an edit date that cannot
    be read leaves the message undated, as one never edited, not unstorable."""
    try:
        return check_slack_ts(value.get("ts")) if isinstance(value, dict) else None
    except (InvalidIdError, ValueError):
        return None


EditedTs = Annotated[str | None, BeforeValidator(_edited_ts)]


class SharedFile(_Payload):
    """A file shared with a message: only its name is read (signoff cannot open files).
    A file past the workspace's plan limits comes without one."""

    name: Label | None = None


class SharedMessage(_Payload):
    """A message quoted by one a person sent: forwarded with it (the client's "Forward
    message", or the older "Share message"), or a pasted link to it unfurled. Slack sends
    it as an attachment (``is_msg_unfurl`` or ``is_share``), the person's own text being
    only their comment, empty without one."""

    text: str
    author: str = ""


# What of them is read: a forward holds one; text beyond a message's own limit is cut.
_SHARES, _AUTHOR = 10, 80


def _shared_messages(value: object) -> tuple[SharedMessage, ...]:
    """The messages quoted in ``attachments``; anything else there (an app's attachment, a
    link's unfurl, a value that cannot be read) is passed over, never a reason to refuse
    the person's message."""
    found: list[SharedMessage] = []
    budget = MAX_TEXT
    for item in value[:_SHARES] if isinstance(value, list) else ():
        if not isinstance(item, dict) or not (item.get("is_msg_unfurl") or item.get("is_share")):
            continue
        text, author = item.get("text"), item.get("author_name")
        if not isinstance(text, str) or not text.strip() or budget <= 0:
            continue
        author = author if isinstance(author, str) and len(author) <= _AUTHOR else ""
        try:
            (text + author).encode("utf-8")
        except UnicodeEncodeError:
            continue
        found.append(SharedMessage(text=text[:budget], author=author))
        budget -= len(text)
    return tuple(found)


SharedMessages = Annotated[tuple[SharedMessage, ...], BeforeValidator(_shared_messages)]


class MessageEvent(_Payload):
    """A person's message (``app_mention`` or ``message``): what the inbox stores, checked."""

    type: Literal["app_mention", "message"]
    channel: SlackId
    user: SlackId
    text: EventText | None = None
    ts: SlackTs
    thread_ts: SlackTs | None = None
    subtype: Literal["thread_broadcast", "file_share"] | None = None
    channel_type: Label | None = None
    # The author's own organization: in a Slack Connect channel, not the host's team.
    user_team: TeamOrNone = None
    team: TeamOrNone = None
    # A message may be only these (a ``file_share`` with an empty text).
    files: tuple[SharedFile, ...] = ()
    # Or these (a forward with no comment): the messages it quotes.
    attachments: SharedMessages = ()
    # An ``app_mention`` Slack sends when an edit first mentions signoff carries the
    # edit's date: what orders it against that message's other edits.
    edited: EditedTs = None


class EventCallback(_Payload):
    type: Literal["event_callback"]
    team_id: SlackId
    event_id: EventId
    event: MessageEvent


class HomeOpened(_Payload):
    """A person opened the app's Home (or Messages) tab; ``view`` is what they saw."""

    type: Literal["app_home_opened"]
    user: SlackId
    # Optional in Slack's own types (@slack/types AppHomeOpenedEvent): "if the user opens
    # a tab", this names it. Without it, not the Home tab.
    tab: Literal["home", "messages"] | None = None
    channel: SlackId | None = None
    # Not read, so not checked: Slack's reference prints it as "1515449522000016", no dot.
    event_ts: JsonValue = None


class HomeOpenedCallback(_Payload):
    type: Literal["event_callback"]
    team_id: SlackId
    event_id: EventId
    event: HomeOpened


class GroupMembersChanged(_Payload):
    """A user group's members changed: who joined and who left, never the whole list."""

    type: Literal["subteam_members_changed"]
    subteam_id: SlackId
    # Optional in Slack's own types (@slack/types SubteamMembersChangedEvent), and a
    # payload seen in the wild sent an empty list for nobody: absent is nobody too.
    added_users: tuple[SlackId, ...] = ()
    removed_users: tuple[SlackId, ...] = ()
    # Not read, so not checked: the reference prints the counts as strings ("3"), Slack's
    # SDK types them as numbers; the dates are Unix seconds, event_ts a Slack ts.


class GroupMembersCallback(_Payload):
    type: Literal["event_callback"]
    team_id: SlackId
    event_id: EventId
    event: GroupMembersChanged
