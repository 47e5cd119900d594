"""App Home: the Home tab each person sees for the app (`views.publish`) and opening it
(`app_home_opened`).

``views.publish`` needs the Home tab enabled for the app (``not_enabled`` otherwise), a known
person (``invalid_arguments``: "invalid `user_id`") and a valid home view; a person's Home
tab keeps its view id across publishes and gets a new ``hash`` each time, and a ``hash`` that
is not the current one is a ``hash_conflict``. ``external_id`` is unique per team, across
Home tabs and modals (``duplicate_external_id``); a view above 250 kB is
``view_too_large``. Opening the app (the Home or the Messages tab) sends
``app_home_opened`` with the person's DM channel, and for the Home tab the current view
once one was published.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from localslack.blockkit import normalize_blocks, validate_home
from localslack.config import WorkspaceConfig
from localslack.deliveries import Delivery
from localslack.errors import ControlError, SlackError
from localslack.events import EventPublisher
from localslack.ids import IdSource
from localslack.records import ViewRecord
from localslack.state import Workspace, im_channel_id

__all__ = ["MAX_VIEW_BYTES", "HomeTabs"]

MAX_VIEW_BYTES = 250_000


def _invalid(messages: list[str]) -> SlackError:
    return SlackError("invalid_arguments", extra={"response_metadata": {"messages": messages}})


class HomeTabs:
    def __init__(
        self,
        *,
        config: WorkspaceConfig,
        workspace: Workspace,
        ids: IdSource,
        events: EventPublisher,
    ) -> None:
        self._config = config
        self._ws = workspace
        self._ids = ids
        self._events = events

    def of(self, user: str) -> ViewRecord | None:
        return self._ws.home_views.get(user)

    def publish(self, *, user_id: str | None, view: Any, hash: str | None) -> ViewRecord:
        if not self._config.home_tab_enabled:
            raise SlackError("not_enabled")
        if not user_id or user_id not in self._ws.users:
            raise _invalid(["invalid `user_id`"])
        if not isinstance(view, dict):
            raise _invalid(["[ERROR] missing required field: view"])
        if len(json.dumps(view).encode()) > MAX_VIEW_BYTES:
            raise SlackError("view_too_large")
        errors = validate_home(view)
        if errors:
            raise _invalid(errors)
        current = self._ws.home_views.get(user_id)
        if hash and (current is None or hash != current.hash):
            raise SlackError("hash_conflict")
        external_id = view.get("external_id")
        if external_id and self._external_id_taken(external_id, current):
            raise SlackError("duplicate_external_id")
        definition = copy.deepcopy(view)
        definition["blocks"] = normalize_blocks(view["blocks"], new_id=self._ids.block_id)
        if current is None:
            view_id = self._ids.view_id()
            cfg = self._config
            current = ViewRecord(
                id=view_id,
                user=user_id,
                definition=definition,
                hash=self._ids.view_hash(),
                root_view_id=view_id,
                team_id=cfg.team_id,
                app_id=cfg.bot.app_id,
                bot_id=cfg.bot.bot_id,
                is_open=False,  # a Home tab is never one of the person's open modals
            )
            self._ws.home_views[user_id] = current
        else:
            current.definition = definition
            current.hash = self._ids.view_hash()
        self._ws.surface_watch.publish({"kind": "home", "user": user_id, **current.to_api()})
        return current

    def _external_id_taken(self, external_id: str, mine: ViewRecord | None) -> bool:
        views = [*self._ws.home_views.values(), *(v for v in self._ws.views.values() if v.is_open)]
        return any(v is not mine and v.definition.get("external_id") == external_id for v in views)

    async def open(self, *, user: str, tab: str) -> Delivery | None:
        """A person opens the app's Home (or Messages) tab; the event, if subscribed."""
        if user not in self._ws.users:
            raise ControlError("user_not_found", user, status=404)
        if tab not in ("home", "messages"):
            raise ControlError("invalid_tab", f"{tab!r}: home or messages")
        if tab == "home" and not self._config.home_tab_enabled:
            raise ControlError("home_tab_disabled", "the app has no Home tab")
        if tab == "messages" and self._config.messages_tab == "off":
            raise ControlError("messages_tab_disabled", "the app has no Messages tab")
        record = self._ws.home_views.get(user)
        return await self._events.app_home_opened(
            user=user,
            channel=im_channel_id(user),
            tab=tab,
            view=None if record is None else record.to_api(),
        )
