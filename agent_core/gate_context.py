"""What the approval gate reads from the conversation about a call: why it was asked (the
card's "Why"), and whether the very same call was denied before in the thread (then it is
refused without a new card).
"""

from __future__ import annotations

from collections.abc import Mapping

from .messages import AssistantMessage, EventMessage, ToolResultMessage, UserMessage
from .session_run import SessionRun

__all__ = ["earlier_denial", "why_asked"]


def earlier_denial(run: SessionRun, digest: str) -> str | None:
    """What a denial of this very call (same arguments' hash) in the thread said, if any."""
    for message in reversed(run.transcript):
        if (
            isinstance(message, ToolResultMessage | EventMessage)
            and message.status == "denied"
            and message.args_sha256 == digest
        ):
            return message.content if isinstance(message, ToolResultMessage) else message.text
    return None


def why_asked(
    run: SessionRun, assistant: AssistantMessage, *, tool: str, arguments: Mapping[str, object]
) -> str:
    """Why the call is asked: the model's words, or the message that asked for it.

    Several messages may be answered in one turn; the one quoted is the latest that names
    the most of the call's argument values (so two requests get their own "Why").
    """
    if assistant.text.strip():
        return assistant.text.strip()[:500]
    asked = (
        run.unanswered_messages() or [m for m in run.transcript if isinstance(m, UserMessage)][-1:]
    )
    if not asked:
        return ""
    values = [str(v).lower() for v in arguments.values() if str(v).strip()]

    def score(index: int) -> tuple[int, int]:
        text = asked[index].text.lower()
        return sum(v in text for v in values) + (tool in text), index

    best = asked[max(range(len(asked)), key=score)]
    return f"asked: {best.text.strip()[:480]}"
