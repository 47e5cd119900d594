"""What the thread's status line says: "signoff is thinking…" and the like."""

from __future__ import annotations

from collections.abc import Sequence

from agent_core.model import RetryNotice

from .slack_text import plain_text, tool_label

__all__ = ["THINKING", "WAITING", "retry_status", "running"]

THINKING = "is thinking…"
WAITING = "is waiting for approval"


def retry_status(notice: RetryNotice) -> str:
    """ "is waiting for Anthropic (529 overloaded_error); trying again in 12 s (2 of 4)…" """
    reason = plain_text(notice.reason, 60)
    wait = f"{notice.delay_s:.0f} s" if notice.delay_s >= 1 else "a moment"
    turn = f"{notice.attempt + 1} of {notice.attempts}"
    return f"is waiting for {notice.provider} ({reason}); trying again in {wait} ({turn})…"


def running(tools: Sequence[str]) -> str:
    names = [tool_label(name) for name in tools]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"is running {shown}…"
