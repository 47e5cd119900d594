"""The drain-run-check loop of one session.

Model turn → the assistant message is recorded *before* any tool runs → calls are
executed or parked → repeat until the model answers without calls, a person must
decide, a budget runs out, the kill switch is on or a person stopped the agent. Every way
out leaves the session in a terminal state with its reason, and tells the thread.

Meanwhile the live view (``rt.live``) shows what happens: working, the model's text as it
streams (into the live view of the reply entry it will be queued as), the tool calls as
steps of that reply, waiting for a person, done. It is only a view: what is recorded and
queued is exactly what it would be without it.
"""

from __future__ import annotations

import logging
import time

from approvals import ApprovalRequest, Capsule
from sessions import Outbox, OutboxEntry, SessionState, ThreadKey, failpoint, off_loop, utc_iso

from .budgets import BudgetExceeded, BudgetTracker
from .call_ids import incomplete_note, recorded_calls
from .early_call import EarlyCall
from .executor import run_calls
from .live import LiveTurn, ReplyStream
from .live_steps import NOT_RUN, outcome_steps, running_steps
from .messages import AssistantMessage, ToolResultMessage
from .model import provider_of
from .model_call import call_model, live_turn
from .observe import ModelCall
from .runtime import Runtime
from .session_run import SessionRun
from .stop_marker import StopRequest
from .stops import active_stop, withdraw_waiting

__all__ = ["park", "queue_reply", "reply_entry_id", "run_loop", "say"]

log = logging.getLogger("signoff.loop")


def reply_entry_id(session_id: str, key: str) -> str:
    """The outbox id of a reply: ``key`` says what it is within its session (``m7``: the
    model's message at transcript position 7)."""
    return f"reply-{session_id}-{key}"


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
    queued = rt.outbox.enqueue(reply_entry(rt, thread, session_id, key, text, people=people))
    if queued:
        rt.outbox_written()
    return queued


def reply_entry(
    rt: Runtime,
    thread: ThreadKey,
    session_id: str,
    key: str,
    text: str,
    *,
    people: tuple[str, ...] = (),
) -> OutboxEntry:
    return OutboxEntry(
        id=reply_entry_id(session_id, key),
        kind="reply",
        thread=thread,
        created_at=utc_iso(rt.clock.now()),
        seq=Outbox.next_seq(),
        text=text,
        session_id=session_id,
        mentions=people,
    )


async def say(run: SessionRun, key: str, text: str, *, model_words: bool = False) -> None:
    """Say ``text`` in the thread; it is durable (and will be sent) when this returns.

    Only the model's own words (``model_words``) may mention the thread's people: the rest
    is signoff's wording around data (an error's text may quote any ``<@U…>``)."""
    people = run.people() if model_words and "<@" in text else ()
    entry = reply_entry(run.rt, run.thread, run.id, key, text, people=people)
    # Off the event loop: the entry is fsynced before this returns.
    if await off_loop(run.rt.outbox.enqueue, entry):
        run.rt.outbox_written()
        await run.trace("reply_queued", {"key": key, "chars": len(text)})


async def _index(run: SessionRun, capsules: list[Capsule]) -> None:
    rows = [ApprovalRequest(run.rt.home, c, clock=run.rt.clock).row() for c in capsules]
    await run.rt.index.put_approvals(rows)


async def _wait_in_slots(run: SessionRun, capsules: list[Capsule]) -> None:
    """Gated calls of a turn whose other calls ran: "pending" slots, told when decided."""
    await _index(run, capsules)
    for capsule in capsules:
        await run.append(
            ToolResultMessage(
                call_id=capsule.call_id,
                name=capsule.tool,
                content=f"waiting for approval {capsule.id}; the call has not run.",
                status="pending",
                args_sha256=capsule.args_sha256,
                approval_id=capsule.id,
            )
        )


async def park(run: SessionRun, capsules: list[Capsule]) -> None:
    """End the session awaiting approval; the cards were queued with their capsules."""
    await _index(run, capsules)
    ids = ", ".join(c.id for c in capsules)
    await run.finish(SessionState.AWAITING_APPROVAL, f"waiting for {ids}")
    failpoint("gate.after_park")
    run.rt.outbox_written()
    await run.rt.live.waiting(live_turn(run), approvals=[c.id for c in capsules])


async def _end(run: SessionRun, turn: LiveTurn, state: SessionState, reason: str) -> None:
    await run.finish(state, reason)
    await run.rt.live.ended(turn, state=state.value)


async def _stopped(run: SessionRun, turn: LiveTurn, stop: StopRequest) -> None:
    """A person stopped the agent: the session ends cancelled (the thread was told)."""
    await _end(run, turn, SessionState.CANCELLED, stop.reason)


async def run_loop(run: SessionRun, *, early: EarlyCall | None = None) -> None:
    """The session's model turns until it ends; ``early`` is its first call, if started."""
    rt = run.rt
    turn = live_turn(run)
    tracker = BudgetTracker(rt.budgets, started=time.monotonic(), cost=rt.cost)
    while True:
        if rt.killed():
            # Not taken up again when the switch is off (it may have been pulled because
            # of this turn), unlike messages that come meanwhile: the person is told so.
            await say(
                run,
                "killswitch",
                "The kill switch is on: I stopped before doing anything more. If it is still "
                "needed, mention me again once it is off.",
            )
            await _end(run, turn, SessionState.CANCELLED, "kill switch")
            return
        stop = active_stop(rt, run.thread, run.transcript)
        if stop is not None:
            await _stopped(run, turn, stop)
            return
        try:
            tracker.before_model_call(time.monotonic())
        except BudgetExceeded as exc:
            await say(run, "budget", f"I stopped here: {exc}. Mention me to continue.")
            await _end(run, turn, SessionState.FAILED, str(exc))
            return
        await rt.live.working(turn)
        stream = rt.live.reply_stream(
            turn, entry_id=reply_entry_id(run.id, f"m{len(run.transcript)}")
        )
        try:
            if not await _model_turn(run, turn, tracker, stream, early):
                return
        finally:
            early = None  # used or let go: later calls are the loop's own
            await stream.close()  # idempotent; after abandon it does nothing


async def _model_turn(
    run: SessionRun,
    turn: LiveTurn,
    tracker: BudgetTracker,
    stream: ReplyStream,
    early: EarlyCall | None,
) -> bool:
    """One model call and what follows it; False when the session ended."""
    rt = run.rt
    try:
        outcome = await call_model(run, turn, stream, early=early)
    except Exception as exc:  # any provider failure ends the session cleanly
        await stream.abandon()
        reason = f"model call failed: {type(exc).__name__}: {exc}"
        rt.observer.emit(
            ModelCall(
                provider=provider_of(rt.model.name),
                outcome="error",
                session_id=run.id,
                thread=run.thread,
                error=type(exc).__name__,
            )
        )
        await run.trace("model_error", {"error": reason})
        # The provider's sentence keeps its own end ("… minutes. (request-id …)"):
        # wrapped in parentheses it doubled its punctuation.
        said = str(exc).strip() or type(exc).__name__
        said += "" if said.endswith((".", "!", "?", ")")) else "."
        # A turn a decision resumed answers no one's new message: what it keeps is that.
        kept = (
            "The decision and what came of it are saved; mention me to go on."
            if run.record.cause == "decision"
            else "Your message is saved; mention me to try again."
        )
        await say(run, "model-error", f"I could not get an answer from the model: {said} {kept}")
        await _end(run, turn, SessionState.FAILED, reason)
        return False
    if isinstance(outcome, StopRequest):
        await stream.abandon()
        await _stopped(run, turn, outcome)
        return False
    reply = outcome
    usd_before = tracker.usd
    tracker.record(reply.model, reply.usage, estimate=reply.usage_estimate)
    rt.observer.emit(
        ModelCall.answered(
            provider=provider_of(rt.model.name),
            outcome="ok",
            usage=reply.usage,
            usd=tracker.usd - usd_before,
            session_id=run.id,
            thread=run.thread,
            usage_reported=not reply.usage_missing,
        )
    )
    assistant = AssistantMessage(
        text=reply.text,
        tool_calls=recorded_calls(run.transcript, reply.tool_calls, stop_reason=reply.stop_reason),
        stop_reason=reply.stop_reason,
        model=reply.model or rt.model.name,
        usage=reply.usage,
    )
    await run.append(assistant)
    position = len(run.transcript) - 1
    failpoint("loop.after_assistant_recorded")
    guess = reply.usage_estimate if reply.usage_missing else None
    await run.trace(
        "model_turn",
        {
            "model": assistant.model,
            "stop_reason": assistant.stop_reason,
            "text": assistant.text,
            "tool_calls": [c.model_dump(mode="json") for c in assistant.tool_calls],
            "usage": assistant.usage.model_dump(),
            "session_tokens": tracker.usage.total,
            "session_usd": round(tracker.usd, 6),
        }
        # None reported: the estimate counted instead (in the session's tokens and usd), as one.
        | ({"usage_estimated": True, "usage_estimate": guess.model_dump()} if guess else {}),
    )
    if assistant.text.strip():
        await say(run, f"m{position}", assistant.text, model_words=True)
    else:
        await stream.abandon()  # no reply will be queued for what it may have shown
    if not assistant.tool_calls:
        await stream.close()
        note = incomplete_note(reply.stop_reason, above=bool(assistant.text.strip()))
        if note is not None:
            await say(run, "incomplete", note)
        elif not run.acted_since_asked():  # whoever asked is never left with silence
            await say(run, "empty", "(The model gave an empty answer.)")
        failpoint("loop.before_finish")
        await _end(run, turn, SessionState.COMPLETED, reply.stop_reason)
        return False
    await stream.steps(running_steps(assistant, rt.budgets.max_calls_per_reply))
    stop = active_stop(rt, run.thread, run.transcript)
    if stop is not None:
        for call in assistant.tool_calls:
            await run.append(
                ToolResultMessage(
                    call_id=call.id,
                    name=call.name,
                    content=f"{NOT_RUN}: {stop.reason}",
                    status="error",
                )
            )
        await stream.steps(outcome_steps(run.transcript, assistant, [], stopped=True))
        await _stopped(run, turn, stop)
        return False
    taken = assistant.tool_calls[: rt.budgets.max_calls_per_reply]  # the rest never run
    await rt.live.working(turn, tools=sorted({c.name for c in taken}))
    parked = await run_calls(run, assistant)
    # A stop that came while the calls ran kept the rest from running: their steps say so.
    stopped = active_stop(rt, run.thread, run.transcript) is not None
    await stream.steps(outcome_steps(run.transcript, assistant, parked, stopped=stopped))
    await stream.close()
    stop = active_stop(rt, run.thread, run.transcript) if parked else None
    if stop is not None:
        # Asked while the stop came (after ``run_calls`` looked): withdrawn too.
        await withdraw_waiting(rt, stop)
    if parked and len(parked) < len(assistant.tool_calls):
        # Some calls of this turn ran (or were refused): tell those now; the gated ones
        # wait in their slots, and their outcomes are told as they are decided.
        await _wait_in_slots(run, parked)
        return True
    if parked:
        await park(run, parked)
        return False
    return True
