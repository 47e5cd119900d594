"""Agent sessions (`agents.sessions.setStatus`): a thread-scoped lifecycle status for apps
declared as agents (which gives them the ``assistant:write`` scope).

A session is created by the first ``setStatus`` for a thread and moves between
``processing``, ``active``, ``suspended`` and ``closed``; ``title`` and
``initiator_user_id`` count only when it is created. While a session is ``processing``
Slack shows a loading indicator with a stop button, but only to apps subscribed to
``agent_session_stopped`` (the others get a warning from ``setStatus`` and their users a
non-interactive indicator). A click on stop stops the app's streams in the thread and sends
the event; the session's status does not change by itself: the app must move it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from localslack.ids import Clock
from localslack.records import JSON
from localslack.watch import MessageWatch

__all__ = ["SESSION_STATUSES", "AgentSession", "AgentSessions"]

SESSION_STATUSES = ("active", "processing", "suspended", "closed")


@dataclass
class AgentSession:
    channel: str
    thread_ts: str
    status: str
    title: str
    initiator_user_id: str | None
    created_at: float
    updated_at: float
    # (status, at, by): every status the session had, and who set it (method name or "user").
    history: list[tuple[str, float, str]] = field(default_factory=list)
    stop_clicks: list[tuple[str, float]] = field(default_factory=list)

    def to_dict(self) -> JSON:
        return {
            "kind": "agent_session",
            "channel": self.channel,
            "thread_ts": self.thread_ts,
            "status": self.status,
            "title": self.title,
            "initiator_user_id": self.initiator_user_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "history": [{"status": s, "at": at, "by": by} for s, at, by in self.history],
            "stop_clicks": [{"user": u, "at": at} for u, at in self.stop_clicks],
        }


class AgentSessions:
    def __init__(self, *, clock: Clock, watch: MessageWatch) -> None:
        self._clock = clock
        self._watch = watch
        self._sessions: dict[tuple[str, str], AgentSession] = {}

    def _changed(self, session: AgentSession) -> None:
        self._watch.publish(copy.deepcopy(session.to_dict()))

    def set_status(
        self,
        *,
        channel: str,
        thread_ts: str,
        status: str,
        title: str | None,
        initiator_user_id: str | None,
        by: str,
    ) -> AgentSession:
        now = self._clock()
        session = self._sessions.get((channel, thread_ts))
        if session is None:
            session = AgentSession(
                channel=channel,
                thread_ts=thread_ts,
                status=status,
                title=title or "",
                initiator_user_id=initiator_user_id,
                created_at=now,
                updated_at=now,
            )
            self._sessions[(channel, thread_ts)] = session
        session.status = status
        session.updated_at = now
        session.history.append((status, now, by))
        self._changed(session)
        return session

    def get(self, *, channel: str, thread_ts: str) -> AgentSession | None:
        return self._sessions.get((channel, thread_ts))

    def stop_clicked(self, session: AgentSession, *, user: str) -> None:
        session.stop_clicks.append((user, self._clock()))
        self._changed(session)

    def all(self, *, channel: str | None = None) -> list[AgentSession]:
        return [s for s in self._sessions.values() if channel in (None, s.channel)]
