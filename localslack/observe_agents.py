"""Observing the AI-app surfaces: thread statuses, agent sessions, streamed messages and
Home tabs. Each read returns plain dicts; each wait returns the first matching change (past
or future) as a dict, or raises TimeoutError.

Changes are also published on ``workspace.surface_watch`` as dicts with a ``kind``:
``thread_status`` (a :class:`~localslack.thread_status.StatusChange`), ``agent_session``,
``stream`` (a stream record), ``home`` (a published Home tab view, with its ``user``) or
``group`` (a user group's new ``members``, by ``id``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from localslack.records import JSON
from localslack.runtime import Runtime

__all__ = ["AgentObservations"]

SurfacePredicate = Callable[[JSON], bool]


class AgentObservations:
    """Mixed into LocalSlack (via Controls); read-only except for waiting."""

    _rt: Runtime

    # -- thread status --------------------------------------------------------------------

    def thread_status(self, *, channel: str, thread_ts: str) -> JSON | None:
        """What the thread shows now (None when nothing), timeouts applied."""
        found = self._rt.statuses.get(channel=channel, thread_ts=thread_ts)
        if found is None:
            return None
        return found.to_dict(app_name=self._rt.config.bot.name, now=self._rt.clock())

    def thread_statuses(self, *, channel: str | None = None) -> list[JSON]:
        """Every thread status shown now (in `channel`)."""
        name, now = self._rt.config.bot.name, self._rt.clock()
        current = self._rt.statuses.current(channel=channel)
        return [s.to_dict(app_name=name, now=now) for s in current]

    def status_history(
        self, *, channel: str | None = None, thread_ts: str | None = None
    ) -> list[JSON]:
        """Every status change (set, cleared, reply, timeout), oldest first."""
        self._rt.statuses.current()  # apply timeouts that are due
        return [
            c.to_dict()
            for c in self._rt.statuses.history
            if channel in (None, c.channel) and thread_ts in (None, c.thread_ts)
        ]

    async def wait_for_status(
        self,
        *,
        channel: str,
        thread_ts: str,
        status: str | None = None,
        cause: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the point of this API
    ) -> JSON:
        """The first status change in the thread with this `status` ("" = cleared) and/or
        `cause` ("set", "cleared", "reply", "timeout")."""

        def matches(change: JSON) -> bool:
            return (
                change.get("kind") == "thread_status"
                and change["channel"] == channel
                and change["thread_ts"] == thread_ts
                and status in (None, change["status"])
                and cause in (None, change["cause"])
            )

        return await self._wait_surface(matches, self.status_history(), timeout)

    # -- agent sessions -------------------------------------------------------------------

    def agent_session(self, *, channel: str, thread_ts: str) -> JSON | None:
        found = self._rt.sessions.get(channel=channel, thread_ts=thread_ts)
        return None if found is None else found.to_dict()

    def agent_sessions(self, *, channel: str | None = None) -> list[JSON]:
        return [s.to_dict() for s in self._rt.sessions.all(channel=channel)]

    async def wait_for_session_status(
        self,
        *,
        channel: str,
        thread_ts: str,
        status: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the point of this API
    ) -> JSON:
        """The session (as it was then) once it had `status`, now or later."""

        def matches(item: JSON) -> bool:
            return (
                item.get("kind") == "agent_session"
                and item["channel"] == channel
                and item["thread_ts"] == thread_ts
                and item["status"] == status
            )

        # Every status a session had counts, not only its current one.
        past = [
            {**session, "status": step["status"]}
            for session in self.agent_sessions()
            for step in session["history"]
        ]
        return await self._wait_surface(matches, past, timeout)

    # -- streams --------------------------------------------------------------------------

    def streams(self, *, channel: str | None = None) -> list[JSON]:
        """Every streamed message: its final or current text, state, tasks and the chunks
        of each call in order."""
        return [r.to_dict() for r in self._rt.streams.all(channel=channel)]

    def stream(self, *, channel: str, ts: str) -> JSON | None:
        found = self._rt.streams.get(channel=channel, ts=ts)
        return None if found is None else found.to_dict()

    async def wait_for_stream(
        self,
        *,
        channel: str | None = None,
        thread_ts: str | None = None,
        state: str | None = "stopped",
        text_contains: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the point of this API
    ) -> JSON:
        def matches(item: JSON) -> bool:
            return (
                item.get("kind") == "stream"
                and channel in (None, item["channel"])
                and thread_ts in (None, item["thread_ts"])
                and state in (None, item["state"])
                and (text_contains is None or text_contains in item["text"])
            )

        return await self._wait_surface(matches, self.streams(), timeout)

    # -- Home tabs ------------------------------------------------------------------------

    def home_view(self, *, user: str) -> JSON | None:
        """The person's published Home tab, as views.publish answered it."""
        found = self._rt.homes.of(user)
        return None if found is None else found.to_api()

    async def wait_for_home_view(
        self,
        predicate: SurfacePredicate | None = None,
        *,
        user: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the point of this API
    ) -> JSON:
        """The person's Home tab once it exists and matches (a publish in the future, or the
        current view)."""

        def matches(item: JSON) -> bool:
            return (
                item.get("kind") == "home"
                and item.get("user") == user
                and (predicate is None or predicate(item))
            )

        current = self.home_view(user=user)
        existing = [] if current is None else [{"kind": "home", "user": user, **current}]
        return await self._wait_surface(matches, existing, timeout)

    async def _wait_surface(
        self,
        matches: SurfacePredicate,
        existing: list[JSON],
        timeout: float,  # noqa: ASYNC109 - a bounded wait is the point of this API
    ) -> JSON:
        watch = self._rt.workspace.surface_watch
        async with asyncio.timeout(timeout):
            return await watch.wait(matches, existing=existing)
