"""The parts of Slack's payloads signoff reads, as frozen models.

Slack adds fields freely, so unknown fields are ignored here; what we read is typed and
validated, and a payload that lacks it is rejected with a clear error instead of a
KeyError deep inside a handler.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BlockAction",
    "BlockActionsPayload",
    "EventCallback",
    "MessageEvent",
    "SlashCommand",
    "ViewSubmission",
]


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class MessageEvent(_Payload):
    type: str
    channel: str = ""
    user: str = ""
    text: str = ""
    ts: str = ""
    thread_ts: str | None = None
    bot_id: str | None = None
    subtype: str | None = None
    channel_type: str | None = None


class EventCallback(_Payload):
    type: str
    team_id: str
    event_id: str
    event: MessageEvent


class _Id(_Payload):
    id: str


class _User(_Payload):
    id: str
    team_id: str | None = None


class _Container(_Payload):
    type: str = "message"
    message_ts: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    is_ephemeral: bool = False


class BlockAction(_Payload):
    action_id: str
    value: str = ""
    block_id: str = ""


class BlockActionsPayload(_Payload):
    type: str
    user: _User
    team: _Id | None = None
    channel: _Id | None = None
    container: _Container = Field(default_factory=_Container)
    trigger_id: str = ""
    actions: tuple[BlockAction, ...]


class _ViewState(_Payload):
    values: dict[str, dict[str, dict[str, object]]] = Field(default_factory=dict)


class _View(_Payload):
    id: str = ""
    callback_id: str = ""
    private_metadata: str = ""
    state: _ViewState = Field(default_factory=_ViewState)


class ViewSubmission(_Payload):
    type: str
    user: _Id
    view: _View


class SlashCommand(_Payload):
    command: str
    text: str = ""
    user_id: str
    channel_id: str
    team_id: str = ""
