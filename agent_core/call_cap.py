"""The cap on the tool calls one model reply may make (``Budgets.max_calls_per_reply``).

A model, or one that a message in the thread talked into it, may answer with dozens of
calls at once: every gated one posted an approval card in the thread, every other one ran.
Now the calls after the first ``cap`` of a reply, counted in the reply's order whatever
they are (gated or not, valid or not), never run and ask nobody. Each still gets a result
(the providers want one for every call) telling the model plainly why, so it can go on
with fewer; the trace has each as a ``tool_rejected`` event with ``over_cap``.

What is over the cap is read from the reply as recorded, by each call's position in it, so
the session that settles the calls of a reply a crash cut off (``settle``) finds the same
ones, and a reply recorded before the cap existed is held to it as well.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .messages import AssistantMessage, ToolCall, ToolResultMessage
from .observe import CallsOverCap
from .session_run import SessionRun

__all__ = ["beyond_cap", "refuse_over_cap", "split_off"]


def beyond_cap(assistant: AssistantMessage, cap: int) -> dict[str, str]:
    """The calls of ``assistant`` after its first ``cap``: call id → what the model is told."""
    calls = assistant.tool_calls
    return {
        call.id: (
            f"not run: one reply may make at most {cap} tool calls, and this was call "
            f"{number} of the {len(calls)} in yours. Nothing of it ran and nobody was asked; "
            f"make the calls still needed in another reply, at most {cap} in one."
        )
        for number, call in enumerate(calls, start=1)
        if number > cap
    }


def split_off(
    assistant: AssistantMessage, capped: Mapping[str, str]
) -> tuple[AssistantMessage, list[ToolCall]]:
    """``assistant`` with only the calls that are not ``capped``, and those that are."""
    over = [c for c in assistant.tool_calls if c.id in capped]
    if not over:
        return assistant, over
    kept = tuple(c for c in assistant.tool_calls if c.id not in capped)
    return assistant.model_copy(update={"tool_calls": kept}), over


async def refuse_over_cap(
    run: SessionRun, calls: Sequence[ToolCall], told: Mapping[str, str]
) -> None:
    """Record ``calls`` (over the cap) as not run, with the results ``told`` says."""
    if not calls:
        return
    cap = run.rt.budgets.max_calls_per_reply
    for call in calls:
        result = ToolResultMessage(
            call_id=call.id, name=call.name, content=told[call.id], status="error"
        )
        await run.trace(
            "tool_rejected",
            {
                "call_id": call.id,
                "status": result.status,
                "content": result.content,
                "over_cap": cap,
            },
        )
        await run.append(result)
    registry = run.rt.registry
    run.rt.observer.emit(
        CallsOverCap(
            tools=tuple(c.name if registry.get(c.name) is not None else "unknown" for c in calls),
            cap=cap,
            session_id=run.id,
            thread=run.thread,
        )
    )
