"""A person clicked the stop button of signoff's agent session: ``agent_session_stopped``.

Slack stops the app's streams in the thread itself and sends this event; the app must
stop its work and move the session away from ``processing``. Here the event goes to
``Engine.stop`` (on the engine's loop): the stop is on disk, the thread's waiting
requests the stopper may decide are withdrawn and the running turn is told, all before the
envelope is acked. Deciding that asks Slack: the event names only the user, so their
organization (what an ``anyone`` rule is open to) is asked first (``users.info``), then,
for each request, who is in its approver groups (``usergroups.users.list``). Slack
delivers an event again that is not acked within 3 s, so these lookups get
``CHECK_WITHIN`` all told, as a form's check before its ack does: a stopper Slack has not
placed by then counts as from another organization, so nothing open to anyone is
withdrawn; a request Slack has not said they may decide is kept waiting (fail closed);
either way the thread is told which and why.
Then the turn ends (cancelled), which moves the agent session to ``active`` and clears
the status line; the thread is told who stopped what.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

from agent_core.engine import Engine
from approvals import Installation, MembershipUnknown, Origin
from sessions import ThreadKey

from .envelopes import Fate, Outcome
from .event_team import keyed_by_installation
from .form_refusals import CHECK_WITHIN
from .kept_events import EventKeeper
from .slack_fields import EventId, SlackId, SlackTs, describe
from .user_teams import UserTeams

__all__ = ["AgentStops"]

log = logging.getLogger("signoff.slack")
T = TypeVar("T")


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class StoppedEvent(_Payload):
    type: Literal["agent_session_stopped"]
    channel: SlackId
    thread_ts: SlackTs
    user: SlackId
    event_ts: SlackTs


class StoppedCallback(_Payload):
    type: Literal["event_callback"]
    team_id: SlackId
    event_id: EventId
    event: StoppedEvent


def _is_stop(payload: JsonValue) -> bool:
    event = payload.get("event") if isinstance(payload, dict) else None
    return isinstance(event, dict) and event.get("type") == "agent_session_stopped"


class AgentStops:
    def __init__(
        self,
        engine: Engine,
        *,
        keeper: EventKeeper,
        app_loop: asyncio.AbstractEventLoop | None = None,
        teams: UserTeams | None = None,
        installation: Installation | None = None,
    ) -> None:
        self.engine = engine
        self.keeper = keeper
        self.app_loop = app_loop
        self.teams = teams
        self.installation = installation

    async def origin(self, user: str, *, deadline: float) -> Origin | None:
        """Where ``user`` stops from (None: organizations are not asked about), as Slack
        says it by ``deadline`` (the loop's time)."""
        if self.teams is None or self.installation is None:
            return None
        try:
            # The stop is acked after it is applied, and Slack delivers an event again that
            # is not acked within 3 s: a slow answer must not hold the stop back.
            async with asyncio.timeout_at(deadline):
                team = await self.teams.team_of(user)
        except TimeoutError:
            log.warning(
                "Slack did not say within %s s which organization %s is in", CHECK_WITHIN, user
            )
            team = ""
        except MembershipUnknown:
            team = ""  # unknown: counted as outside, so an ``anyone`` request stays
        return Origin(team=team, installation=self.installation)

    async def handle(self, payload: JsonValue) -> Outcome | None:
        """The outcome of a stop event; None for any other payload."""
        if not _is_stop(payload):
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CHECK_WITHIN  # for every lookup the stop makes
        # The thread is read under the team it is kept under (``event_team``).
        keyed = keyed_by_installation(payload, knows=self.engine.knows_thread)
        try:
            callback = StoppedCallback.model_validate(keyed)
        except ValidationError as exc:
            # Kept once, like a message: a redelivery is a duplicate of its record.
            return await self.keeper.keep(payload, f"agent_session_stopped: {describe(exc)}")
        event = callback.event
        thread = ThreadKey(team=callback.team_id, channel=event.channel, thread_ts=event.thread_ts)
        origin = await self.origin(event.user, deadline=deadline)
        try:
            outcome = await self._on_engine_loop(
                self.engine.stop(
                    thread,
                    user=event.user,
                    slack_ts=event.event_ts,
                    origin=origin,
                    within=deadline - loop.time(),
                )
            )
        except OSError as exc:  # the disk, not the payload: Slack delivers it again
            return Outcome(fate=Fate.DEFERRED, reason=f"could not store the stop: {exc}")
        if outcome is None:
            return Outcome(
                fate=Fate.IGNORED,
                reason="a stop in a thread signoff takes no part in",
                ref=callback.event_id,
            )
        if outcome.repeated:
            return Outcome(
                fate=Fate.DUPLICATE,
                reason="a stop applied already",
                ref=callback.event_id,
                thread=thread,
            )
        if outcome.stale:
            return Outcome(
                fate=Fate.IGNORED,
                reason="a stop older than a message the thread took up since",
                ref=callback.event_id,
            )
        withdrawn = ", ".join(r.capsule.id for r, _ in outcome.withdrawn) or "none"
        kept = ", ".join(r.capsule.id for r, _ in outcome.kept) or "none"
        log.info(
            "stopped in %s by %s (a turn was running: %s; withdrawn: %s; left waiting: %s)",
            thread.label(),
            event.user,
            "yes" if outcome.interrupted else "no",
            withdrawn,
            kept,
        )
        return Outcome(fate=Fate.STORED, reason="a stop", ref=callback.event_id, thread=thread)

    async def _on_engine_loop(self, work: Coroutine[Any, Any, T]) -> T:
        if self.app_loop is None or self.app_loop is asyncio.get_running_loop():
            return await work
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.app_loop))
