"""The in-process control API: act as humans and break things on purpose (observing lives in
observe.py)."""

from __future__ import annotations

from typing import Any

from localslack.deliveries import Delivery
from localslack.errors import ControlError
from localslack.faults import Fault
from localslack.interactions import Interaction
from localslack.methods_reactions import apply_reaction
from localslack.observe import Observations
from localslack.records import Channel

__all__ = ["Controls"]


class Controls(Observations):
    """Mixed into LocalSlack; the HTTP control routes call exactly these methods."""

    # -- acting as humans ---------------------------------------------------------------------

    def _human_channel(self, channel: str, user: str) -> Channel:
        if user not in self._rt.workspace.users:
            raise ControlError("user_not_found", user, status=404)
        chan = self._rt.workspace.channel(channel)
        if chan is None:
            raise ControlError("channel_not_found", channel, status=404)
        if user not in chan.members:
            raise ControlError("not_in_channel", f"{user} is not a member of {chan.id}")
        return chan

    async def post_message(
        self,
        *,
        channel: str,
        user: str,
        text: str,
        thread_ts: str | None = None,
        escape: bool = True,
    ) -> str:
        """Post as a human (text is escaped like the Slack client does); returns the ts."""
        chan = self._human_channel(channel, user)
        message = await self._rt.messages.post_human(
            chan, user=user, text=text, thread_ts=thread_ts, escape=escape
        )
        return str(message["ts"])

    async def add_reaction(self, *, channel: str, ts: str, user: str, name: str) -> None:
        chan = self._human_channel(channel, user)
        await apply_reaction(self._rt, channel_id=chan.id, ts=ts, user=user, name=name, added=True)

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
        return await self._rt.interactions.click_button(
            channel=channel, ts=ts, user=user, action_id=action_id, value=value, block_id=block_id
        )

    async def submit_view(
        self,
        *,
        user: str,
        values: dict[str, dict[str, object]] | None = None,
        view_id: str | None = None,
        callback_id: str | None = None,
    ) -> Interaction:
        """Submit the user's top open modal (or the one named); values are
        {block_id: {action_id: value}} with plain strings wrapped per element type."""
        return await self._rt.interactions.submit_view(
            user=user, values=dict(values or {}), view_id=view_id, callback_id=callback_id
        )

    async def slash_command(
        self, *, command: str, user: str, channel: str, text: str = ""
    ) -> Interaction:
        return await self._rt.interactions.slash_command(
            command=command, user=user, channel=channel, text=text
        )

    async def send_envelope(
        self,
        *,
        type: str,
        payload: Any,
        accepts_response_payload: bool | None = None,
        event_id: str | None = None,
    ) -> Delivery:
        """Deliver a Socket Mode envelope exactly as given, for what the workspace would never
        generate: forged, malformed or fuzzed payloads (``payload`` may be any JSON value).

        Delivery, ack timing and redelivery work as for any envelope; ``event_id`` (for
        redelivery) defaults to the payload's own when it has one. The workspace is not
        touched, and an ack's response payload is recorded but not applied.
        """
        if accepts_response_payload is None:
            accepts_response_payload = type != "events_api"
        if event_id is None and type == "events_api" and isinstance(payload, dict):
            found = payload.get("event_id")
            event_id = found if isinstance(found, str) else None
        return await self._rt.hub.deliver(
            type=type,
            payload=payload,
            accepts_response_payload=accepts_response_payload,
            event_id=event_id,
            raw=True,
        )

    # -- resetting and breaking things --------------------------------------------------------

    def clear_calls(self) -> None:
        self._api.calls.clear()

    def inject_fault(
        self,
        *,
        method: str,
        error: str | None = None,
        count: int = 1,
        status: int = 200,
        retry_after: int | None = None,
    ) -> Fault:
        return self._api.faults.add(
            method=method, error=error, count=count, status=status, retry_after=retry_after
        )

    def clear_faults(self) -> None:
        self._api.faults.clear()

    def set_rate_limits(self, *, enabled: bool) -> None:
        self._api.limiter.enabled = enabled
        self._api.limiter.reset()

    async def disconnect_sockets(
        self,
        *,
        reason: str = "refresh_requested",
        socket_id: str | None = None,
        close_after: float | None = None,
    ) -> list[str]:
        return await self._rt.hub.disconnect(
            reason=reason, socket_id=socket_id, close_after=close_after
        )

    def drop_sockets(self, *, socket_id: str | None = None) -> list[str]:
        return self._rt.hub.drop(socket_id=socket_id)

    def answer_pings(self, *, enabled: bool) -> None:
        self._rt.hub.answer_pings = enabled
