"""Modals: trigger ids, the per-user view stack, submission state and response_action."""

from __future__ import annotations

import copy
from typing import Any

from localslack.blockkit import interactive_elements, normalize_blocks, validate_modal
from localslack.config import WorkspaceConfig
from localslack.errors import ControlError, SlackError
from localslack.ids import Clock, IdSource
from localslack.records import JSON, Trigger, ViewRecord
from localslack.state import Workspace

__all__ = ["Views"]

_TEXT_INPUTS = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
_SINGLE_SELECTS = {"static_select", "external_select", "radio_buttons"}
_MULTI_SELECTS = {"multi_static_select", "multi_external_select", "checkboxes"}
_PICKED = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}
_STATEFUL = _TEXT_INPUTS | _SINGLE_SELECTS | _MULTI_SELECTS | set(_PICKED)


def _options(element: JSON) -> list[JSON]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _state_value(element: JSON, given: Any) -> JSON:
    kind = element["type"]
    if isinstance(given, dict):
        return {"type": kind, **given}
    if kind in _TEXT_INPUTS:
        return {"type": kind, "value": given}
    if kind in _SINGLE_SELECTS:
        chosen = next((o for o in _options(element) if o.get("value") == given), None)
        return {"type": kind, "selected_option": chosen}
    if kind in _MULTI_SELECTS:
        wanted = given if isinstance(given, list) else ([] if given is None else [given])
        return {
            "type": kind,
            "selected_options": [o for o in _options(element) if o.get("value") in wanted],
        }
    return {"type": kind, _PICKED[kind]: given}


class Views:
    def __init__(
        self, *, config: WorkspaceConfig, workspace: Workspace, ids: IdSource, clock: Clock
    ) -> None:
        self._config = config
        self._ws = workspace
        self._ids = ids
        self._clock = clock

    # -- triggers -------------------------------------------------------------------------------

    def new_trigger(self, user: str) -> str:
        trigger = Trigger(id=self._ids.trigger_id(), user=user, created_at=self._clock())
        self._ws.triggers[trigger.id] = trigger
        return trigger.id

    def _take_trigger(self, trigger_id: str | None) -> Trigger:
        trigger = self._ws.triggers.get(trigger_id or "")
        if trigger is None:
            raise _invalid(["invalid `trigger_id`"])
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if self._clock() - trigger.created_at > self._config.timing.trigger_ttl:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    # -- Web API operations ---------------------------------------------------------------------

    def _checked(self, view: Any, *, replacing: ViewRecord | None = None) -> JSON:
        if not isinstance(view, dict):
            raise _invalid(["[ERROR] missing required field: view"])
        errors = validate_modal(view)
        if errors:
            raise _invalid(errors)
        external_id = view.get("external_id")
        if external_id and any(
            v.is_open and v is not replacing and v.definition.get("external_id") == external_id
            for v in self._ws.views.values()
        ):
            raise SlackError("duplicate_external_id")
        definition = copy.deepcopy(view)
        definition["blocks"] = normalize_blocks(view.get("blocks", []), new_id=self._ids.block_id)
        return definition

    def _record(self, *, user: str, definition: JSON, previous: ViewRecord | None) -> ViewRecord:
        view_id = self._ids.view_id()
        cfg = self._config
        record = ViewRecord(
            id=view_id,
            user=user,
            definition=definition,
            hash=self._ids.view_hash(),
            root_view_id=previous.root_view_id if previous else view_id,
            previous_view_id=previous.id if previous else None,
            team_id=cfg.team_id,
            app_id=cfg.bot.app_id,
            bot_id=cfg.bot.bot_id,
        )
        self._ws.views[view_id] = record
        return record

    def open(self, *, trigger_id: str | None, view: Any) -> ViewRecord:
        definition = self._checked(view)
        trigger = self._take_trigger(trigger_id)
        return self._record(user=trigger.user, definition=definition, previous=None)

    def push(self, *, trigger_id: str | None, view: Any) -> ViewRecord:
        definition = self._checked(view)
        trigger = self._take_trigger(trigger_id)
        stack = self.open_views(user=trigger.user)
        if len(stack) >= 3:
            raise SlackError("push_limit_reached")
        return self._record(
            user=trigger.user, definition=definition, previous=stack[-1] if stack else None
        )

    def update(
        self, *, view_id: str | None, external_id: str | None, hash: str | None, view: Any
    ) -> ViewRecord:
        record = next(
            (
                v
                for v in self.open_views()
                if (view_id and v.id == view_id)
                or (external_id and v.definition.get("external_id") == external_id)
            ),
            None,
        )
        if record is None:
            raise SlackError("not_found")
        if hash and hash != record.hash:
            raise SlackError("hash_conflict")
        record.definition = self._checked(view, replacing=record)
        record.hash = self._ids.view_hash()
        record.errors = {}
        return record

    # -- user side ------------------------------------------------------------------------------

    def open_views(self, *, user: str | None = None) -> list[ViewRecord]:
        return [v for v in self._ws.views.values() if v.is_open and user in (None, v.user)]

    def find_open(self, *, user: str, view_id: str | None, callback_id: str | None) -> ViewRecord:
        candidates = [
            v
            for v in self.open_views(user=user)
            if view_id in (None, v.id) and callback_id in (None, v.definition.get("callback_id"))
        ]
        if not candidates:
            raise ControlError("view_not_found", f"no open view for {user}", status=404)
        return candidates[-1]

    def state_values(self, record: ViewRecord, values: dict[str, Any]) -> JSON:
        """Build `view.state.values` from {block_id: {action_id: value}}; plain values are
        wrapped according to each element's type."""
        if not isinstance(values, dict):
            raise ControlError("invalid_argument", "values: an object of block ids")
        for block_id, by_action in values.items():
            if not isinstance(by_action, dict):
                raise ControlError(
                    "invalid_argument", f"values.{block_id}: an object of action ids"
                )
        state: JSON = {}
        known: set[tuple[str, str]] = set()
        for block in record.definition.get("blocks", []):
            block_id = block.get("block_id", "")
            for element in interactive_elements(block):
                if element.get("type") not in _STATEFUL:
                    continue
                action_id = element.get("action_id", "")
                known.add((block_id, action_id))
                given = values.get(block_id, {}).get(action_id)
                if given is None and block.get("type") == "input" and not block.get("optional"):
                    raise ControlError("missing_required_input", f"{block_id}/{action_id}")
                value = _state_value(element, given)
                # What a person types in a text input reaches the app as text, or not at all.
                if element["type"] in _TEXT_INPUTS and not isinstance(
                    value.get("value"), str | None
                ):
                    raise ControlError(
                        "invalid_argument", f"{block_id}/{action_id}: a text input's value is text"
                    )
                state.setdefault(block_id, {})[action_id] = value
        for block_id, by_action in values.items():
            for action_id in by_action:
                if (block_id, action_id) not in known:
                    raise ControlError("unknown_input", f"{block_id}/{action_id}")
        return state

    def apply_response(self, record: ViewRecord, response: JSON | None) -> None:
        """What the client does with a view_submission ack's response_action."""
        response = response or {}
        action = response.get("response_action")
        if action == "errors":
            record.errors = dict(response.get("errors") or {})
        elif action == "update":
            record.definition = self._checked(response.get("view"), replacing=record)
            record.hash = self._ids.view_hash()
            record.errors = {}
        elif action == "push":
            definition = self._checked(response.get("view"))
            self._record(user=record.user, definition=definition, previous=record)
        elif action == "clear":
            for view in self.open_views(user=record.user):
                view.is_open = False
        else:
            record.is_open = False


def _invalid(messages: list[str]) -> SlackError:
    return SlackError("invalid_arguments", extra={"response_metadata": {"messages": messages}})
