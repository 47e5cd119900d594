"""The in-process control API: act as humans and break things on purpose (observing lives in
observe.py and observe_agents.py, seeded chaos in controls_chaos.py, user groups' members in
controls_groups.py, channels' members in controls_channels.py, a person's edits and
deletions in controls_edits.py, the Socket Mode links and the
app's Socket Mode setting in controls_sockets.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from localslack.controls_channels import ChannelControls
from localslack.controls_chaos import ChaosControls
from localslack.controls_edits import EditControls
from localslack.controls_groups import GroupControls
from localslack.controls_sockets import SocketControls
from localslack.deliveries import Delivery
from localslack.errors import ControlError
from localslack.faults import SURFACE_ERRORS, Fault, SurfaceError
from localslack.holds import HeldCalls
from localslack.interactions import Interaction
from localslack.methods_common import MAX_TEXT_LENGTH
from localslack.methods_reactions import apply_reaction
from localslack.observe import Observations
from localslack.observe_agents import AgentObservations
from localslack.records import JSON, Channel, StoredFile
from localslack.textfmt import escape_user_text
from localslack.view_actions import click_view_button

__all__ = ["Controls"]


class Controls(
    EditControls,
    ChaosControls,
    SocketControls,
    ChannelControls,
    GroupControls,
    AgentObservations,
    Observations,
):
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
        if chan.is_archived:
            raise ControlError("is_archived", f"{chan.id} is archived")
        if chan.is_im and self._rt.config.messages_tab != "on":
            # Slack lets people read a read-only (or hidden) Messages tab but not write in it.
            raise ControlError("messages_tab_read_only", f"{user} cannot write to the app")
        return chan

    async def post_message(
        self,
        *,
        channel: str,
        user: str,
        text: str,
        thread_ts: str | None = None,
        escape: bool = True,
        files: Sequence[str] = (),
        forward: tuple[str, str] | None = None,
    ) -> str:
        """Post as a human (text is escaped like the Slack client does); returns the ts.
        ``files``: names of files shared with the message (with or without text), which
        makes it a ``file_share``. ``forward``: the (channel, ts) of a message forwarded
        with it, ``text`` its comment (may be empty)."""
        chan = self._human_channel(channel, user)
        if len(escape_user_text(text) if escape else text) > MAX_TEXT_LENGTH:
            # Slack's client refuses to send it; the Events API never carries one.
            raise ControlError("msg_too_long", "a message holds at most 40,000 characters")
        shared = [self._shared_file(name, user=user) for name in files]
        quoted = (
            [self._rt.messages.quote(*forward, base_url=self._rt.base_url)] if forward else None
        )
        message = await self._rt.messages.post_human(
            chan,
            user=user,
            text=text,
            thread_ts=thread_ts,
            escape=escape,
            files=shared,
            attachments=quoted,
        )
        return str(message["ts"])

    def _shared_file(self, name: str, *, user: str) -> JSON:
        rt = self._rt
        stored = StoredFile(
            id=rt.ids.file_id(),
            name=name,
            length=0,
            created=int(rt.clock()),
            user=user,
            title=name,
            content=b"",
            completed=True,
        )
        rt.workspace.files[stored.id] = stored
        return stored.to_api(base_url=rt.base_url, team_id=rt.config.team_id)

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
        self,
        *,
        command: str,
        user: str,
        channel: str,
        text: str = "",
        fields: Mapping[str, str] | None = None,
    ) -> Interaction:
        return await self._rt.interactions.slash_command(
            command=command, user=user, channel=channel, text=text, fields=fields
        )

    async def open_app_home(
        self, *, user: str, tab: Literal["home", "messages"] = "home"
    ) -> Delivery | None:
        """The person opens the app's Home (or Messages) tab: `app_home_opened`, when the app
        subscribes to it (None otherwise)."""
        return await self._rt.homes.open(user=user, tab=tab)

    async def click_view_button(
        self,
        *,
        user: str,
        view_id: str | None = None,
        action_id: str | None = None,
        value: str | None = None,
        block_id: str | None = None,
    ) -> Interaction:
        """Click a button in the person's Home tab (or, with `view_id`, an open modal)."""
        return await click_view_button(
            self._rt,
            user=user,
            view_id=view_id,
            action_id=action_id,
            value=value,
            block_id=block_id,
        )

    async def stop_agent_session(
        self, *, user: str, channel: str, thread_ts: str
    ) -> Delivery | None:
        """The person clicks the stop button of the thread's processing agent session: its
        streams stop growing (the app ends each, once) and `agent_session_stopped` goes out.
        The session stays as it is (the app moves it). Refused without a stop button."""
        rt = self._rt
        if user not in rt.workspace.users:
            raise ControlError("user_not_found", user, status=404)
        chan = rt.workspace.channel(channel)
        if chan is None or (chan.is_private and user not in chan.members):
            raise ControlError("channel_not_found", channel, status=404)
        parent = rt.workspace.thread_parent(chan.id, thread_ts)
        session = (
            None if parent is None else rt.sessions.get(channel=chan.id, thread_ts=parent["ts"])
        )
        if session is None:
            raise ControlError("no_agent_session", f"{chan.id}/{thread_ts}", status=404)
        if session.status != "processing":
            raise ControlError("no_stop_button", f"the session is {session.status}, not processing")
        if not rt.events.subscribed("agent_session_stopped"):
            raise ControlError(
                "no_stop_button", "the app does not subscribe to agent_session_stopped"
            )
        stopped = rt.streams.in_thread(channel=chan.id, thread_ts=session.thread_ts)
        for record in stopped:
            rt.streams.stop(record, by="user")
        rt.sessions.stop_clicked(session, user=user)
        return await rt.events.agent_session_stopped(
            user=user,
            channel=chan,
            thread_ts=session.thread_ts,
            streaming_message_ts=[r.ts for r in stopped],
        )

    async def send_envelope(
        self,
        *,
        type: str,
        payload: Any,
        accepts_response_payload: bool | None = None,
        event_id: str | None = None,
        retry_attempt: int = 0,
    ) -> Delivery:
        """Deliver a Socket Mode envelope exactly as given, for what the workspace would never
        generate: forged, malformed or fuzzed payloads (``payload`` may be any JSON value).

        Delivery, ack timing and redelivery work as for any envelope; ``event_id`` (for
        redelivery) defaults to the payload's own when it has one. The workspace is not
        touched, and an ack's response payload is recorded but not applied. A
        ``retry_attempt`` above 0 sends it as Slack's late retry of an envelope it sent
        before (with ``retry_reason``), whatever happened since.
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
            retry_attempt=retry_attempt,
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
        count: int | None = 1,
        status: int = 200,
        retry_after: int | None = None,
        after_commit: bool = False,
        drop_connection: bool = False,
        channel: str | None = None,
        garbage: bool = False,
        cut_short: bool = False,
        hang: bool = False,
    ) -> Fault:
        """The next `count` calls of `method` (every call with None; "*" for any method)
        fail; with `channel`, only the calls about that channel. With `after_commit` the method takes effect first (the message is stored and
        announced) and only the answer fails: `status` (say 500) or, with
        `drop_connection`, no answer at all, or with `garbage`, an HTML page instead of
        JSON, or with `cut_short`, JSON that ends mid-object, or with `hang`, nothing until
        the server stops (the client's timeout ends the call). See faults.py."""
        return self._api.faults.add(
            method=method,
            error=error,
            count=count,
            status=status,
            retry_after=retry_after,
            after_commit=after_commit,
            drop_connection=drop_connection,
            channel=channel,
            garbage=garbage,
            cut_short=cut_short,
            hang=hang,
        )

    def lack_surface(
        self, *, method: str, error: SurfaceError = "unknown_method", needed: str | None = None
    ) -> Fault:
        """From now on `method` answers as in a workspace without it, until
        :meth:`clear_faults` (or :meth:`remove_fault`): `unknown_method`,
        `not_allowed_token_type`, `feature_not_enabled`, or `missing_scope` with `needed`
        (default: the method's own scope) and the `provided` scopes."""
        if error not in SURFACE_ERRORS:
            raise ControlError("invalid_error", f"{error!r}: one of {', '.join(SURFACE_ERRORS)}")
        extra: dict[str, str] = {}
        if error == "unknown_method":
            extra["req_method"] = method
        elif error == "missing_scope":
            scopes = self._api.scopes_for(method)
            wanted = needed or (scopes[0] if scopes else None)
            if wanted is None:
                raise ControlError("missing_argument", f"needed: {method} declares no scope")
            extra["needed"] = wanted
            extra["provided"] = ",".join(self._rt.config.scopes)
        return self._api.faults.add(method=method, error=error, count=None, extra=extra)

    def hold_calls(self, *, method: str, count: int = 1, channel: str | None = None) -> HeldCalls:
        """The next `count` calls of `method` (with `channel`, about that channel) wait
        before they run, until the hold's `release()`: see holds.py."""
        return self._api.holds.add(method=method, count=count, channel=channel)

    def remove_fault(self, fault: Fault) -> None:
        self._api.faults.remove(fault)

    def clear_faults(self) -> None:
        self._api.faults.clear()

    def set_rate_limits(self, *, enabled: bool) -> None:
        self._api.limiter.enabled = enabled
        self._api.limiter.reset()
