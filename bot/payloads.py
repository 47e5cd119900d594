"""What Slack sends signoff through Bolt, as frozen models: the boundary every interaction
and slash command passes first.

Slack adds fields freely, so unknown fields are ignored; every field signoff (or Bolt, to
route a payload) reads is typed and checked here (``slack_fields``), so a payload that is
off is refused with a clear reason before any listener sees it. A listener that starts
reading a new field adds it here, so that it is checked too. Events do not pass through
Bolt: what the inbox stores is checked the same way in ``event_payloads``.

Shapes follow Slack's reference: the interaction payloads ``block_actions``,
``block_suggestion``, ``view_submission``, ``view_closed``, ``shortcut`` and
``message_action``; slash commands.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    Strict,
    StringConstraints,
)

from sessions import ThreadKey, check_slack_id

from .slack_fields import (
    MAX_TEXT,
    ActionId,
    EventText,
    Label,
    SlackId,
    SlackTs,
    SlackUrl,
    Text,
)

__all__ = [
    "INTERACTIONS",
    "BlockAction",
    "BlockActionsPayload",
    "BlockSuggestion",
    "Interaction",
    "Routing",
    "Shortcut",
    "SlashCommand",
    "ViewClosed",
    "ViewSubmission",
    "click_thread",
]


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


def _maybe_id(value: str) -> str:
    return value and check_slack_id(value)


def _json_text(value: JsonValue) -> JsonValue:
    # Free-form parts (a modal's input values) may be read as text: every string in them
    # must be text, and they stay small.
    pending, budget = [value], MAX_TEXT * 4
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            budget -= len(item)
            item.encode("utf-8")  # UnicodeEncodeError is a ValueError: a validation error
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        if budget < 0:
            raise ValueError(f"more than {MAX_TEXT * 4} characters")
    return value


SlackIdOrEmpty = Annotated[str, Strict(), AfterValidator(_maybe_id)]


def _empty_is_none(value: object) -> object:
    return None if value == "" else value


# A slash command's form may send a flag it does not set as an empty field (Bolt reads
# anything but true or "true" as false).
FormBool = Annotated[bool | None, BeforeValidator(_empty_is_none)]
JsonText = Annotated[JsonValue, AfterValidator(_json_text)]

# -- what Bolt reads to route an interaction or a command -------------------------------


class _Team(_Payload):
    id: SlackId | None = None
    enterprise_id: SlackId | None = None
    domain: Label | None = None


class _User(_Payload):
    id: SlackId
    team_id: SlackId | None = None
    username: Label | None = None
    name: Label | None = None


class _Channel(_Payload):
    id: SlackId
    name: Label | None = None


class _Authorization(_Payload):
    enterprise_id: SlackId | None = None
    team_id: SlackId | None = None
    user_id: SlackId | None = None
    is_bot: bool | None = None
    is_enterprise_install: bool | None = None


class _ResponseUrl(_Payload):
    response_url: SlackUrl
    block_id: Label | None = None
    action_id: Label | None = None
    channel_id: SlackId | None = None


class _Message(_Payload):
    ts: SlackTs | None = None
    thread_ts: SlackTs | None = None
    user: SlackId | None = None
    bot_id: SlackId | None = None


class Routing(_Payload):
    """Every field Bolt reads to route a payload and build a listener's context.

    Bolt indexes these without checking their types; a listener must never run on a
    payload where they are off. Fields that would route the payload elsewhere (an event
    inside an interaction, a custom-function execution) are refused.
    """

    authorizations: tuple[_Authorization, ...] | None = None
    is_enterprise_install: FormBool = None
    enterprise: SlackId | _Team | None = None
    enterprise_id: SlackIdOrEmpty | None = None  # sent empty outside Enterprise Grid
    team: SlackId | _Team | None = None
    team_id: SlackIdOrEmpty | None = None
    user: SlackId | _User | None = None
    user_id: SlackId | None = None
    channel: SlackId | _Channel | None = None
    channel_id: SlackId | None = None
    thread_ts: SlackTs | None = None
    message: _Message | None = None
    response_url: SlackUrl | None = None
    response_urls: tuple[_ResponseUrl, ...] | None = None
    event: None = None
    previous_message: None = None
    item: None = None
    assistant_thread: None = None
    function_execution_id: None = None
    function_data: None = None
    bot_access_token: None = None


# -- interactions -----------------------------------------------------------------------


class BlockAction(_Payload):
    action_id: ActionId
    block_id: ActionId = ""
    value: Label = ""
    type: Label = ""


class _Container(_Payload):
    type: Label = "message"
    message_ts: SlackTs | None = None
    channel_id: SlackId | None = None
    thread_ts: SlackTs | None = None
    is_ephemeral: bool = False
    view_id: Label | None = None


class _ViewState(_Payload):
    values: dict[ActionId, dict[ActionId, dict[str, JsonText]]] = Field(default_factory=dict)


class _View(_Payload):
    id: Label = ""
    external_id: Label = ""
    callback_id: ActionId
    type: Label = "modal"
    hash: Label = ""
    private_metadata: Label = ""
    state: _ViewState = Field(default_factory=_ViewState)
    team_id: SlackId | None = None
    app_installed_team_id: SlackId | None = None

    @property
    def form_key(self) -> str:
        """What names the form this view is: the ``external_id`` signoff gave it (a view
        opened before signoff set one: its id)."""
        return self.external_id or self.id


class Interaction(Routing):
    """What every interaction payload shares; a ``command`` key would route it as a command."""

    type: Label
    user: _User
    command: None = None


class BlockActionsPayload(Interaction):
    type: Literal["block_actions"]
    user: _User
    team: _Team | None = None
    channel: _Channel | None = None
    container: _Container = Field(default_factory=_Container)
    trigger_id: Label = ""
    view: _View | None = None
    actions: tuple[BlockAction, ...] = Field(min_length=1)


class BlockSuggestion(Interaction):
    type: Literal["block_suggestion"]
    user: _User
    action_id: ActionId
    block_id: ActionId = ""
    value: Text = ""
    view: _View | None = None


class ViewSubmission(Interaction):
    type: Literal["view_submission"]
    user: _User
    view: _View
    trigger_id: Label = ""


class ViewClosed(Interaction):
    type: Literal["view_closed"]
    user: _User
    view: _View
    is_cleared: bool = False


class Shortcut(Interaction):
    """A global shortcut (``shortcut``) or a message shortcut (``message_action``)."""

    type: Literal["shortcut", "message_action"]
    user: _User
    callback_id: ActionId
    trigger_id: Label = ""


# The interaction types signoff hands to its listeners; others are acked and ignored.
INTERACTIONS: dict[str, type[Interaction]] = {
    "block_actions": BlockActionsPayload,
    "block_suggestion": BlockSuggestion,
    "view_submission": ViewSubmission,
    "view_closed": ViewClosed,
    "shortcut": Shortcut,
    "message_action": Shortcut,
}


# -- slash commands ---------------------------------------------------------------------


class SlashCommand(Routing):
    # No ``type``: Bolt routes by keys, and an interaction's keys must not ride along.
    type: None = None
    actions: None = None
    view: None = None
    callback_id: None = None
    action_id: None = None
    command: Annotated[str, StringConstraints(strict=True, pattern=r"^/[A-Za-z0-9_.\-]{1,31}$")]
    # Escaped as a message's is (``&`` arrives as ``&amp;``): Slack's limit is on what was
    # typed, so it is checked as written.
    text: EventText = ""
    user_id: SlackId
    channel_id: SlackId
    team_id: SlackIdOrEmpty = ""
    trigger_id: Label = ""
    # Always sent; the only way to answer (respond()) outside the 3 s of the ack.
    response_url: SlackUrl


def click_thread(payload: BlockActionsPayload) -> ThreadKey | None:
    """The thread a click on a message came from: the card's thread (None: not one)."""
    c = payload.container
    team = payload.team.id if payload.team else payload.user.team_id
    try:
        return ThreadKey(
            team=team or "", channel=c.channel_id or "", thread_ts=c.thread_ts or c.message_ts or ""
        )
    except ValueError:
        return None
