"""The drain-run-check loop of one session.

Model turn → the assistant message is recorded *before* any tool runs → calls are
executed or parked → repeat until the model answers without calls, a person must
decide, a budget runs out, or the kill switch is on. Every way out leaves the session in
a terminal state with its reason, and tells the thread.
"""

from __future__ import annotations

import logging
import time

from approvals import ApprovalRequest, Capsule
from sessions import Outbox, OutboxEntry, SessionState, ThreadKey, failpoint, utc_iso

from .budgets import BudgetExceeded, BudgetTracker
from .executor import run_calls
from .messages import AssistantMessage, ToolResultMessage
from .observe import ModelCall
from .parsing import to_tool_call
from .runtime import Runtime
from .session_run import SessionRun

__all__ = ["park", "queue_reply", "run_loop", "say"]

log = logging.getLogger("signoff.loop")


def queue_reply(
    rt: Runtime,
    thread: ThreadKey,
    session_id: str,
    key: str,
    text: str,
    *,
    people: tuple[str, ...] = (),
) -> bool:
    """Queue a reply in the thread; ``key`` names what it is within its session."""
    entry = OutboxEntry(
        id=f"reply-{session_id}-{key}",
        kind="reply",
        thread=thread,
        created_at=utc_iso(rt.clock.now()),
        seq=Outbox.next_seq(),
        text=text,
        session_id=session_id,
        mentions=people,
    )
    queued = rt.outbox.enqueue(entry)
    if queued:
        rt.outbox_written()
    return queued


async def say(run: SessionRun, key: str, text: str) -> None:
    """Say ``text`` in the thread; it is durable (and will be sent) when this returns."""
    people = run.people() if "<@" in text else ()
    if queue_reply(run.rt, run.thread, run.id, key, text, people=people):
        run.trace("reply_queued", {"key": key, "chars": len(text)})


async def park(run: SessionRun, capsules: list[Capsule]) -> None:
    """End the session awaiting approval; the cards were queued with their capsules."""
    await _index(run, capsules)
    ids = ", ".join(c.id for c in capsules)
    await run.finish(SessionState.AWAITING_APPROVAL, f"waiting for {ids}")
    failpoint("gate.after_park")
    run.rt.outbox_written()


async def _index(run: SessionRun, capsules: list[Capsule]) -> None:
    rows = [ApprovalRequest(run.rt.home, c, clock=run.rt.clock).row() for c in capsules]
    await run.rt.index.put_approvals(rows)


async def _wait_in_slots(run: SessionRun, capsules: list[Capsule]) -> None:
    """Gated calls of a turn whose other calls ran: "pending" slots, told when decided."""
    await _index(run, capsules)
    for capsule in capsules:
        run.append(
            ToolResultMessage(
                call_id=capsule.call_id,
                name=capsule.tool,
                content=f"waiting for approval {capsule.id}; the call has not run.",
                status="pending",
                args_sha256=capsule.args_sha256,
                approval_id=capsule.id,
            )
        )


async def run_loop(run: SessionRun) -> None:
    rt = run.rt
    tracker = BudgetTracker(rt.budgets, started=time.monotonic(), cost=rt.cost)
    while True:
        if rt.killed():
            await say(
                run, "killswitch", "The kill switch is on: I stopped before doing anything more."
            )
            await run.finish(SessionState.CANCELLED, "kill switch")
            return
        try:
            tracker.before_model_call(time.monotonic())
        except BudgetExceeded as exc:
            await say(run, "budget", f"I stopped here: {exc}. Mention me to continue.")
            await run.finish(SessionState.FAILED, str(exc))
            return
        try:
            reply = await rt.model.complete(
                system=rt.system_prompt, messages=run.transcript, tools=rt.registry.specs()
            )
        except Exception as exc:  # any provider failure ends the session cleanly
            reason = f"model call failed: {type(exc).__name__}: {exc}"
            rt.observer.emit(
                ModelCall(
                    provider=_provider(rt.model.name),
                    outcome="error",
                    session_id=run.id,
                    error=type(exc).__name__,
                )
            )
            run.trace("model_error", {"error": reason})
            await say(
                run,
                "model-error",
                f"I could not get an answer from the model ({exc}). "
                "Your message is saved; mention me to try again.",
            )
            await run.finish(SessionState.FAILED, reason)
            return
        usd_before = tracker.usd
        tracker.record(reply.model, reply.usage)
        rt.observer.emit(
            ModelCall(
                provider=_provider(rt.model.name),
                outcome="ok",
                input_tokens=reply.usage.input_tokens,
                output_tokens=reply.usage.output_tokens,
                usd=tracker.usd - usd_before,
                session_id=run.id,
            )
        )
        assistant = AssistantMessage(
            text=reply.text,
            tool_calls=tuple(to_tool_call(c) for c in reply.tool_calls),
            stop_reason=reply.stop_reason,
            model=reply.model or rt.model.name,
            usage=reply.usage,
        )
        run.append(assistant)
        position = len(run.transcript) - 1
        failpoint("loop.after_assistant_recorded")
        run.trace(
            "model_turn",
            {
                "model": assistant.model,
                "stop_reason": assistant.stop_reason,
                "text": assistant.text,
                "tool_calls": [c.model_dump(mode="json") for c in assistant.tool_calls],
                "usage": assistant.usage.model_dump(),
                "session_tokens": tracker.usage.total,
                "session_usd": round(tracker.usd, 6),
            },
        )
        if assistant.text.strip():
            await say(run, f"m{position}", assistant.text)
        if not assistant.tool_calls:
            if reply.stop_reason in ("max_tokens", "refusal"):
                note = (
                    "ran out of output tokens" if reply.stop_reason == "max_tokens" else "refused"
                )
                await say(
                    run, "incomplete", f"(The model {note}; the answer above may be incomplete.)"
                )
            failpoint("loop.before_finish")
            await run.finish(SessionState.COMPLETED, reply.stop_reason)
            return
        parked = await run_calls(run, assistant)
        if parked and len(parked) < len(assistant.tool_calls):
            # Some calls of this turn ran (or were refused): tell those now; the gated ones
            # wait in their slots, and their outcomes are told as they are decided.
            await _wait_in_slots(run, parked)
        elif parked:
            await park(run, parked)
            return


def _provider(model_name: str) -> str:
    """The provider part of a model's name (``anthropic:claude-…`` → ``anthropic``)."""
    return model_name.partition(":")[0] or model_name
