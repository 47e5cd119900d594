"""A model turn's tool calls as the steps of the reply that asked for them (``LiveView``).

A step says what became of its call: ``waiting`` is a call that asked for a person's
approval (a surface that cannot update a finished reply says so in words that stay true;
the card says how and when it was decided); a call that never ran (a stop, the kill
switch, a reply cut off) says "not run", not the "error" of a call that ran and failed,
and one a person's stop kept from running says "not run: stopped". A call over the reply's
cap (``call_cap``) is "not run" from its first step.
"""

from __future__ import annotations

from collections.abc import Sequence

from approvals import Capsule

from .live import ToolStep
from .messages import AssistantMessage, Message, ToolResultMessage

__all__ = ["NOT_RUN", "outcome_steps", "running_steps"]

# How a call that never ran is told to the model (the executor's refusals, a cut reply).
NOT_RUN = "not run"


def running_steps(assistant: AssistantMessage, cap: int) -> list[ToolStep]:
    """The calls of ``assistant`` as they start: the first ``cap`` running, the rest "not
    run" from the start (``call_cap``: they never will, so no one is shown them running)."""
    return [
        ToolStep(c.id, c.name, "running") if n < cap else ToolStep(c.id, c.name, "failed", NOT_RUN)
        for n, c in enumerate(assistant.tool_calls)
    ]


def outcome_steps(
    transcript: Sequence[Message],
    assistant: AssistantMessage,
    parked: Sequence[Capsule],
    *,
    stopped: bool,
) -> list[ToolStep]:
    """Each call of ``assistant`` as a step, with what became of it; ``stopped``: a
    person's stop applies (the calls it kept from running say so)."""
    results = {m.call_id: m for m in transcript if isinstance(m, ToolResultMessage)}
    waiting = {c.call_id for c in parked}
    not_run = f"{NOT_RUN}: stopped" if stopped else NOT_RUN
    steps = []
    for call in assistant.tool_calls:
        result = results.get(call.id)
        if call.id in waiting or (result is not None and result.status == "pending"):
            steps.append(ToolStep(call.id, call.name, "waiting"))
        elif result is None or _refused(result):
            steps.append(ToolStep(call.id, call.name, "failed", not_run))
        elif result.status == "ok":
            steps.append(ToolStep(call.id, call.name, "done"))
        else:
            steps.append(ToolStep(call.id, call.name, "failed", result.status))
    return steps


def _refused(result: ToolResultMessage) -> bool:
    """One of the "not run: …" refusals: a call that ran carries its arguments' hash (the
    executor's), whatever its tool said."""
    return (
        result.status == "error"
        and not result.args_sha256
        and result.content.startswith(f"{NOT_RUN}:")
    )
