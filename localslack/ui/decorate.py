"""What the page shows around messages besides the messages: how a streamed message is
going (state, tasks, plan), the status line under threads, and agent sessions with their
stop button. Added to /_ui/api/state answers; never part of what the Web API returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from localslack.records import JSON

if TYPE_CHECKING:
    from localslack.server import LocalSlack

__all__ = ["surfaces"]

_STREAM_KEYS = ("state", "stopped_by", "display_mode", "plan_title", "tasks", "text")


def surfaces(server: LocalSlack, *, channel: str, messages: list[JSON]) -> JSON:
    """Marks streamed messages in `messages` (in place, as ``stream``) and returns the
    statuses and sessions of the channel's threads, keyed by thread ts."""
    for message in messages:
        record = server.stream(channel=channel, ts=str(message.get("ts")))
        if record is not None:
            stream = {k: record[k] for k in _STREAM_KEYS}
            if message.get("edited"):  # chat.update replaced what streamed: Slack shows that
                stream.update(text=message.get("text", ""), edited=True)
            message["stream"] = stream
    statuses = server.thread_statuses(channel=channel)
    stoppable = "agent_session_stopped" in server.describe()["subscribed_events"]
    sessions = {
        s["thread_ts"]: {**s, "stoppable": stoppable and s["status"] == "processing"}
        for s in server.agent_sessions(channel=channel)
    }
    # The page refreshes itself when the next status times out (no event announces that).
    return {
        "statuses": {s["thread_ts"]: s for s in statuses},
        "sessions": sessions,
        "refresh_in": min((s["expires_in"] for s in statuses), default=None),
    }
