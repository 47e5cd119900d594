"""Socket Mode on its own thread, with the ack moved to where it is safe.

Bolt acks an event *before* its listener runs, so a crash right after the ack would lose
the message. Here ``events_api`` envelopes bypass Bolt's dispatch: the message is written
durably to the thread inbox first, then the envelope is acked on the socket.

Every envelope ends acked, except when storage fails for now (see ``envelopes``), and
leaves one log line. Interactions and slash commands are checked against
``payloads`` first — Bolt indexes payloads without checking them — and then handed to
Bolt on the main loop, where the engine lives; they ack within 3 s and do their work
after. A slash command is acked here first (nothing rides on its ack), so a long answer or
a busy main loop cannot hold it. What no listener takes is acked anyway: Bolt would leave
it unacked.

The socket client runs on a dedicated thread and event loop (``socket_thread``), so an
ack never waits behind the engine's turns (their fsyncs and model calls run on the main
loop).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from agent_core.observe import EnvelopeAcked, NullObserver, Observer

from .commands import COMMAND
from .envelopes import Fate, Outcome, screen_command, screen_interaction, stored_event
from .ingest import EventIngest
from .listeners import OUTSIDE, failure
from .slack_calls import posting
from .slack_fields import shown
from .socket_link import SignoffSocketModeClient
from .unreadable_answers import unreadable_answer
from .unreadable_notices import KEPT_EACH_PER_HOUR, KEPT_PER_HOUR, NoticeBudget, tell_sender

__all__ = ["SignoffSocketModeHandler"]

log = logging.getLogger("signoff.socket")
T = TypeVar("T")

_TYPES = ("events_api", "interactive", "slash_commands")
FrameRunner = Callable[[dict[str, Any], str], Awaitable[None]]


class Controls(Protocol):
    """Events that control signoff rather than talk to it (a stop); None: not one."""

    async def handle(self, payload: Any) -> Outcome | None: ...


class SignoffSocketModeHandler(AsyncSocketModeHandler):
    client: SignoffSocketModeClient

    def __init__(
        self,
        app: AsyncApp,
        app_token: str,
        ingest: EventIngest,
        *,
        app_loop: asyncio.AbstractEventLoop | None = None,
        ping_interval: float = 10,
        observer: Observer | None = None,
        controls: Controls | None = None,
    ) -> None:
        # Bolt's __init__ only builds its client and registers ``handle``; this builds a
        # client that reports its link state and can be stopped for good instead.
        self.app = app
        self.app_token = app_token
        self.observer: Observer = observer or NullObserver()
        self.client = SignoffSocketModeClient(
            observer=self.observer,
            app_token=app_token,
            # Its reconnect chatter is the SDK's; socket_up/socket_down say it for operators.
            logger=logging.getLogger("slack_sdk.socket_mode"),
            web_client=app.client,
            ping_interval=ping_interval,
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]
        self.ingest = ingest
        self.controls = controls
        self.app_loop = app_loop
        self.accepting = True
        self._unkept = NoticeBudget(ingest.clock)
        self._kept = NoticeBudget(ingest.clock, per_hour=KEPT_PER_HOUR, each=KEPT_EACH_PER_HOUR)
        # The SDK runs each frame in a task it keeps no reference to: held here so that a
        # stop can wait for them instead of closing the loop under them.
        self._frames: set[asyncio.Task[Any]] = set()
        self._guard_frames(self.client)

    def _guard_frames(self, client: SocketModeClient) -> None:
        """Ack envelopes the SDK cannot turn into a request (no payload, or one that is not
        an object): it would log a traceback for them and leave them unacked forever."""
        run: FrameRunner = client.run_message_listeners

        async def guarded(message: dict[str, Any], raw_message: str) -> None:
            task = asyncio.current_task()
            if task is None:
                await screened(message, raw_message)
                return
            self._frames.add(task)
            try:
                await screened(message, raw_message)
            finally:
                self._frames.discard(task)

        async def screened(message: dict[str, Any], raw_message: str) -> None:
            envelope_id = message.get("envelope_id")
            payload = message.get("payload")
            if (
                self.accepting
                and isinstance(envelope_id, str)
                and not ("type" in message and isinstance(payload, dict | str))
            ):
                outcome = Outcome(
                    fate=Fate.DROPPED, reason=f"unusable envelope: payload {shown(payload)}"
                )
                log.log(outcome.level, outcome.line(f"envelope {shown(envelope_id)}"))
                await client.send_socket_mode_response(SocketModeResponse(envelope_id=envelope_id))
                return
            await run(message, raw_message)

        client.run_message_listeners = guarded  # type: ignore[method-assign]

    async def frames_done(self, *, within: float) -> None:
        """Wait up to ``within`` seconds for the frames being handled to finish, then cut
        the rest: unacked, Slack delivers them again (left pending, the loop's stop
        destroyed them, each with an error in the log)."""
        if self._frames:
            await asyncio.wait(set(self._frames), timeout=within)
        cut = list(self._frames)
        for task in cut:
            task.cancel()
        await asyncio.gather(*cut, return_exceptions=True)

    # Bolt narrows the client type the same way (and silences mypy the same way).
    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        if not self.accepting:
            return  # shutting down: whatever is not acked, Slack delivers again
        arrived = time.perf_counter()
        acked = False
        if req.type == "events_api":
            outcome = await self._event(req.payload)
            self.observer.emit(stored_event(req.payload, outcome))
        elif req.type in ("interactive", "slash_commands"):
            outcome, acked = await self._interaction(client, req, arrived)
        else:
            outcome = Outcome(fate=Fate.IGNORED, reason=f"envelope type {shown(req.type)}")
        if outcome.fate is not Fate.HANDLED:
            what = req.type if req.type in _TYPES else f"envelope type {shown(req.type, 30)}"
            log.log(outcome.level, outcome.line(what), exc_info=outcome.error)
        # A handled interaction was acked by Bolt; a handled event (app_home_opened) is not.
        if (
            outcome.acked
            and not acked
            and (req.type == "events_api" or outcome.fate is not Fate.HANDLED)
        ):
            await self._ack(client, req, arrived, _answer(req, outcome))
        if outcome.kept or outcome.unkept:  # acked first: telling may take Slack a while
            await self._tell(req, outcome)

    async def _tell(self, req: SocketModeRequest, outcome: Outcome) -> None:
        """Tell the sender of what signoff could not read that it did nothing with it (what
        could not be kept, within a tight budget; what was, a wider one: bad input comes in
        floods)."""
        budget = self._unkept if outcome.unkept else self._kept
        told = await tell_sender(
            posting(self.app.client), str(req.type), req.payload, kept=outcome.kept, budget=budget
        )
        if told is not None:
            level = logging.DEBUG if told.skipped else logging.INFO
            what = outcome.kept or outcome.ref or f"envelope {req.envelope_id}"
            log.log(level, "the sender of %s: %s", what, told.how)

    async def _event(self, payload: Any) -> Outcome:
        """What became of an event; whatever its work raised, one outcome (and one line)."""
        try:
            control = await self.controls.handle(payload) if self.controls else None
            return control or await self.ingest.handle(payload)
        except Exception as exc:
            # Slack or the network failed under the work (a lookup it needed), or a bug of
            # ours: unacked, Slack delivers it again, and the work is idempotent.
            body = payload if isinstance(payload, dict) else {}
            return Outcome(
                fate=Fate.DEFERRED,
                reason=f"its work failed: {failure(exc)}",
                ref=str(body.get("event_id", ""))[:40],
                error=None if isinstance(exc, OUTSIDE) else exc,
            )

    async def _ack(
        self,
        client: SocketModeClient,
        req: SocketModeRequest,
        arrived: float,
        answer: dict[str, Any] | None = None,
    ) -> None:
        try:
            await client.send_socket_mode_response(
                SocketModeResponse(envelope_id=req.envelope_id, payload=answer)
            )
        except Exception as exc:
            self._unacked(req, exc)
            return
        self._acked(req, arrived)

    def _unacked(self, req: SocketModeRequest, exc: Exception) -> None:
        """The link went down after the work was done: an event Slack delivers again (and
        dedupe absorbs); an interaction or command it never does."""
        then = "will redeliver it" if req.type == "events_api" else "shows the person an error"
        log.info("could not ack envelope %s (%s); Slack %s", req.envelope_id, exc, then)

    def _acked(self, req: SocketModeRequest, arrived: float) -> None:
        self.observer.emit(
            EnvelopeAcked(envelope_type=str(req.type), seconds=time.perf_counter() - arrived)
        )

    async def _interaction(
        self, client: SocketModeClient, req: SocketModeRequest, arrived: float
    ) -> tuple[Outcome, bool]:
        """What became of it, and whether its envelope is acked already."""
        screen = screen_interaction if req.type == "interactive" else screen_command
        refused = screen(req.payload)
        if refused is None and req.type == "slash_commands" and _by_url(req.payload):
            # Acked here first: Bolt's ack is seen by a 10 ms poll on the main loop, so a
            # command's work there (a long trace, a slow disk) or an engine turn held it past
            # Slack's 3 s. Nothing rides on it: /signoff answers by response_url only.
            await self._ack(client, req, arrived)
            return await self._bolt(client, req, arrived, acked=True), True
        if refused is None:
            return await self._bolt(client, req, arrived), False
        if refused.fate is not Fate.QUARANTINED:
            return refused, False
        return await self._quarantine(req, refused), False

    async def _quarantine(self, req: SocketModeRequest, refused: Outcome) -> Outcome:
        try:
            record = await asyncio.to_thread(
                self.ingest.quarantine.put,
                source=req.type,
                reason=refused.reason,
                payload=req.payload,
            )
        except OSError as exc:
            # Interactions are never redelivered: acking now at least spares the user an error.
            why = f"{refused.reason}; could not quarantine: {exc}"
        else:
            if record is not None:
                return dataclasses.replace(refused, ref=record.id, kept=record.id)
            why = f"{refused.reason} (quarantine full for today)"
        return Outcome(fate=Fate.DROPPED, reason=why, unkept=True)

    async def _bolt(
        self,
        client: SocketModeClient,
        req: SocketModeRequest,
        arrived: float,
        *,
        acked: bool = False,
    ) -> Outcome:
        start = time.time()
        try:
            if self.app_loop is None or self.app_loop is asyncio.get_running_loop():
                response = await run_async_bolt_app(self.app, req)
            else:
                dispatched = asyncio.run_coroutine_threadsafe(
                    run_async_bolt_app(self.app, req), self.app_loop
                )
                response = await asyncio.wrap_future(dispatched)
        except Exception as exc:  # the screening let through what Bolt cannot route: a bug
            refused = Outcome(
                fate=Fate.QUARANTINED, reason=f"Bolt could not dispatch it: {exc!r}", error=exc
            )
            return await self._quarantine(req, refused)
        if response.status != 200:
            # No listener matched, or none acked in time: Bolt would leave it unacked.
            return Outcome(
                fate=Fate.IGNORED, reason=f"no listener took it (Bolt status {response.status})"
            )
        if not acked:
            try:
                await send_async_response(client, req, response, start)
            except Exception as exc:  # Bolt's sender, unguarded: the SDK logged a traceback
                self._unacked(req, exc)
            else:
                self._acked(req, arrived)
        return Outcome(fate=Fate.HANDLED)


def _answer(req: SocketModeRequest, outcome: Outcome) -> dict[str, Any] | None:
    """What the ack of an interaction or command refused before any listener says."""
    if outcome.fate not in (Fate.QUARANTINED, Fate.DROPPED):
        return None
    kept = outcome.ref if outcome.fate is Fate.QUARANTINED else ""
    return unreadable_answer(str(req.type), req.payload, kept=kept)


def _by_url(payload: Any) -> bool:
    """A command whose answers all go by its response_url (the fallback's ride on its ack)."""
    return isinstance(payload, dict) and payload.get("command") == COMMAND
