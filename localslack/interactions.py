"""User-initiated payloads: button clicks, modal submissions and slash commands."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from localslack.blockkit import interactive_elements
from localslack.config import WorkspaceConfig
from localslack.deliveries import Delivery
from localslack.errors import ControlError, SlackError
from localslack.messages import MessageOps
from localslack.records import JSON, Channel
from localslack.responseurl import ResponseUrls
from localslack.socketmode import SocketHub
from localslack.state import Workspace
from localslack.textfmt import escape_user_text
from localslack.views import Views

__all__ = ["Interaction", "Interactions", "find_button"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Interaction:
    envelope_id: str
    trigger_id: str
    response_url: str | None
    payload: JSON

    def to_dict(self) -> JSON:
        return {
            "envelope_id": self.envelope_id,
            "trigger_id": self.trigger_id,
            "response_url": self.response_url,
            "payload": copy.deepcopy(self.payload),
        }


def find_button(
    blocks: list[Any], *, action_id: str | None, value: str | None, block_id: str | None
) -> tuple[str, JSON]:
    for block in blocks:
        if not isinstance(block, dict) or block_id not in (None, block.get("block_id")):
            continue
        for element in interactive_elements(block):
            if (
                element.get("type") == "button"
                and action_id in (None, element.get("action_id"))
                and value in (None, element.get("value"))
            ):
                return str(block.get("block_id", "")), element
    raise ControlError(
        "button_not_found", f"action_id={action_id} value={value} block_id={block_id}", status=404
    )


class Interactions:
    def __init__(
        self,
        *,
        config: WorkspaceConfig,
        workspace: Workspace,
        hub: SocketHub,
        messages: MessageOps,
        views: Views,
        response_urls: ResponseUrls,
    ) -> None:
        self._config = config
        self._ws = workspace
        self._hub = hub
        self._messages = messages
        self._views = views
        self._response_urls = response_urls
        hub.ack_listeners.append(self._on_ack)

    # -- helpers ------------------------------------------------------------------------------

    def _user(self, user: str) -> JSON:
        if user not in self._ws.users:
            raise ControlError("user_not_found", user, status=404)
        name = self._ws.user_name(user)
        # The clicker's own team: a Slack Connect guest's is their organization's, while the
        # payload's ``team`` stays the workspace the card is in.
        return {"id": user, "username": name, "name": name, "team_id": self._ws.team_of(user)}

    def _channel(self, ref: str, user: str) -> Channel:
        channel = self._ws.channel(ref)
        if channel is None:
            raise ControlError("channel_not_found", ref, status=404)
        if channel.is_private and user not in channel.members:
            raise ControlError("not_in_channel", f"{user} cannot see {ref}")
        return channel

    def _team(self) -> JSON:
        return {"id": self._config.team_id, "domain": self._config.team_domain}

    def base_payload(self, kind: str, user: str) -> JSON:
        """The fields every interaction payload of `kind` from `user` starts with."""
        return self._common(kind, user)

    def _common(self, kind: str, user: str) -> JSON:
        return {
            "type": kind,
            "user": self._user(user),
            "api_app_id": self._config.bot.app_id,
            "token": self._config.verification_token,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
        }

    # -- block_actions ------------------------------------------------------------------------

    async def click_button(
        self,
        *,
        channel: str,
        ts: str,
        user: str,
        action_id: str | None = None,
        value: str | None = None,
        block_id: str | None = None,
    ) -> Interaction:
        payload = self._common("block_actions", user)
        chan = self._channel(channel, user)
        message = self._ws.get(chan.id, ts)
        if message is not None:
            source, thread_ts, is_ephemeral = message, message.get("thread_ts"), False
        else:
            # Ephemeral messages are only clickable by the user who can see them.
            item = self._ws.find_ephemeral(recipient=user, ts=ts)
            if item is None or item.channel != chan.id:
                raise ControlError("message_not_found", f"{channel}/{ts}", status=404)
            source, thread_ts, is_ephemeral = item.message, item.thread_ts, True
        found_block, button = find_button(
            source.get("blocks") or [], action_id=action_id, value=value, block_id=block_id
        )
        container: JSON = {
            "type": "message",
            "message_ts": ts,
            "channel_id": chan.id,
            "is_ephemeral": is_ephemeral,
        }
        if thread_ts:
            container["thread_ts"] = thread_ts
        trigger_id = self._views.new_trigger(user)
        response_url = self._response_urls.issue(
            channel=chan.id,
            user=user,
            source_ts=ts,
            source_ephemeral=is_ephemeral,
            thread_ts=thread_ts if thread_ts != ts else None,
        )
        action: JSON = {
            "action_id": button.get("action_id"),
            "block_id": found_block,
            "text": button.get("text"),
            "type": "button",
            "action_ts": self._ws.ts.next(),
        }
        for key in ("value", "style"):
            if key in button:
                action[key] = button[key]
        payload.update(
            container=container,
            trigger_id=trigger_id,
            channel={"id": chan.id, "name": chan.name},
            state={"values": {}},
            response_url=response_url,
            actions=[action],
        )
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        delivery = await self._hub.deliver(
            type="interactive", payload=payload, accepts_response_payload=True
        )
        return Interaction(delivery.envelope_id, trigger_id, response_url, payload)

    # -- view_submission ----------------------------------------------------------------------

    async def submit_view(
        self,
        *,
        user: str,
        values: dict[str, Any] | None = None,
        view_id: str | None = None,
        callback_id: str | None = None,
    ) -> Interaction:
        payload = self._common("view_submission", user)
        record = self._views.find_open(user=user, view_id=view_id, callback_id=callback_id)
        state = self._views.state_values(record, values or {})
        trigger_id = self._views.new_trigger(user)
        payload.update(
            trigger_id=trigger_id,
            view=record.to_api(state_values=state),
            response_urls=[],
        )
        delivery = await self._hub.deliver(
            type="interactive", payload=payload, accepts_response_payload=True
        )
        delivery.extra["view_id"] = record.id
        return Interaction(delivery.envelope_id, trigger_id, None, payload)

    # -- slash commands -----------------------------------------------------------------------

    async def slash_command(
        self,
        *,
        command: str,
        user: str,
        channel: str,
        text: str = "",
        fields: Mapping[str, str] | None = None,
    ) -> Interaction:
        """``text``: as the person typed it (sent escaped, as Slack sends it). ``fields``: form
        fields added or replaced, as some installs send them (the Enterprise Grid fields,
        sent empty outside a Grid)."""
        if not command.startswith("/"):
            raise ControlError("invalid_command", command)
        self._user(user)
        chan = self._channel(channel, user)
        trigger_id = self._views.new_trigger(user)
        response_url = self._response_urls.issue(channel=chan.id, user=user)
        cfg = self._config
        # Slash command payloads are form fields in HTTP mode, so every value is a string.
        payload: JSON = {
            "token": cfg.verification_token,
            "team_id": cfg.team_id,
            "team_domain": cfg.team_domain,
            "channel_id": chan.id,
            "channel_name": chan.name,
            "user_id": user,
            "user_name": self._ws.user_name(user),
            "command": command,
            # Escaped as Slack escapes typed text (a message's too): &, < and >, the
            # composer's mentions and links kept as markup.
            "text": escape_user_text(text),
            "api_app_id": cfg.bot.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
            **(fields or {}),
        }
        delivery = await self._hub.deliver(
            type="slash_commands", payload=payload, accepts_response_payload=True
        )
        delivery.extra.update(channel=chan.id, user=user)
        return Interaction(delivery.envelope_id, trigger_id, response_url, payload)

    # -- ack payloads -------------------------------------------------------------------------

    async def _on_ack(self, delivery: Delivery) -> None:
        if delivery.raw:
            return  # no command or modal of the workspace stands behind a raw envelope
        try:
            if delivery.type == "slash_commands" and delivery.ack_payload:
                await self._command_response(delivery, delivery.ack_payload)
            elif delivery.kind == "view_submission":
                record = self._ws.views.get(str(delivery.extra.get("view_id")))
                if record is not None:
                    self._views.apply_response(record, delivery.ack_payload)
        except SlackError as exc:
            # Slack would show the user a generic error for an unusable response body.
            delivery.user_saw_error = True
            log.warning("localslack: unusable ack payload (%s): %r", exc.code, delivery.ack_payload)

    async def _command_response(self, delivery: Delivery, body: JSON) -> None:
        if not (body.get("text") or body.get("blocks") or body.get("attachments")):
            return
        channel = self._ws.channels[str(delivery.extra["channel"])]
        content: dict[str, Any] = {
            "text": body.get("text"),
            "blocks": body.get("blocks"),
            "attachments": body.get("attachments"),
        }
        if body.get("response_type") == "in_channel":
            await self._messages.post_bot(channel, **content)
        else:
            self._messages.post_ephemeral(channel, recipient=str(delivery.extra["user"]), **content)
