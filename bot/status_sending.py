"""Showing a thread's agent status through Slack (``agents.sessions.setStatus``).

A workspace without agent sessions is remembered (``SurfaceSupport``), and nothing is
asked of it again. Slack's definite no (a thread it does not have: ``signoff say``
without ``--thread``) is given up at once: asking again cannot change it, and a status
is not worth holding the thread's later entries for.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from agent_core.surface import Delivered, DeliveryError
from agent_core.thread_status import AgentStatus
from sessions import OutboxEntry

from .slack_errors import definite, delivery_error
from .surface_support import SurfaceSupport

__all__ = ["send_status"]


async def send_status(
    client: AsyncWebClient, entry: OutboxEntry, status: AgentStatus, *, support: SurfaceSupport
) -> Delivered:
    """The thread's agent session shows ``status``."""
    thread = entry.thread
    if support.offers("sessions"):
        try:
            await client.agents_sessions_setStatus(
                channel_id=thread.channel, thread_ts=thread.thread_ts, status=status
            )
        except Exception as exc:
            if support.check("sessions", "agents.sessions.setStatus", exc):
                return Delivered(thread.channel, "")
            error = delivery_error(exc)
            if definite(exc) and error.retry_after is None:
                raise DeliveryError(error.reason, permanent=True) from exc
            raise error from exc
    return Delivered(thread.channel, "")
