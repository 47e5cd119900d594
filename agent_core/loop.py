"""The drain-run-check loop of one session.

Model turn → the assistant message is recorded *before* any tool runs → calls are
executed or parked → repeat until the model answers without calls, a person must
decide, a budget runs out, or the kill switch is on. Every way out leaves the session in
a terminal state with its reason, and tells the thread.
"""

from __future__ import annotations

import contextlib
import logging
import time

from approvals import Capsule, approval_row, record_path, write_record
from sessions import AlreadyExistsError, SessionFiles, SessionRecord, SessionState, failpoint

from .budgets import BudgetExceeded, BudgetTracker
from .executor import run_calls
from .messages import AssistantMessage
from .mirror import mirror_approval
from .parsing import to_tool_call
from .runtime import Runtime
from .session_run import SessionRun

__all__ = ["lost_replies", "park", "post_cards", "run_loop", "say"]

log = logging.getLogger("signoff.loop")


async def say(run: SessionRun, text: str) -> None:
    """Post to the thread between two tickets, so recovery can re-post a lost reply."""
    name = run.files.write_ticket("reply", {"text": text})
    try:
        await run.rt.surface.reply(run.thread, text)
    except Exception as exc:  # the thread missing a message must not lose the session
        run.trace("reply_failed", {"ticket": name, "error": f"{type(exc).__name__}: {exc}"})
        return
    run.files.write_ticket("reply-sent", {"ticket": name})


def lost_replies(rt: Runtime, crashed: SessionRecord) -> list[str]:
    """What a crashed session meant to say in the thread but may not have said.

    A reply ticket without its reply-sent ticket, or an answer recorded in the
    transcript with no reply ticket at all (a crash between the two). Posting twice is
    allowed by the Surface contract; losing an answer is not.
    """
    directory = rt.home.session_dir(crashed.id)
    tickets = SessionFiles(directory, clock=rt.clock).read_tickets()
    sent = {t.get("ticket") for t in tickets if t.get("kind") == "reply-sent"}
    ticketed = [t for t in tickets if t.get("kind") == "reply"]
    lost = [str(t.get("text", "")) for t in ticketed if t.get("file") not in sent]
    inherited = 0
    if crashed.parent_id is not None:
        inherited = len(SessionFiles(rt.home.session_dir(crashed.parent_id)).read_transcript())
    said = {str(t.get("text", "")) for t in ticketed}
    for record in SessionFiles(directory).read_transcript()[inherited:]:
        text = str(record.get("text", "")).strip()
        if record.get("role") == "assistant" and text and record.get("text") not in said:
            lost.append(str(record["text"]))
    return lost


async def post_cards(rt: Runtime, capsules: list[Capsule]) -> None:
    """Post each card and save where it landed, beside its capsule."""
    for capsule in capsules:
        session_dir = rt.home.session_dir(capsule.session_id)
        if not record_path(session_dir, capsule.id, "card").exists():
            try:
                card = await rt.surface.post_card(capsule)
            except Exception:
                # The request is durable without its card; the sweep posts it again later.
                log.exception("could not post the card for %s", capsule.id)
                card = None
            failpoint("card.after_post")
            if card is not None:
                with contextlib.suppress(AlreadyExistsError):
                    write_record(record_path(session_dir, capsule.id, "card"), card)
        # With or without a card, the index must list the request as pending.
        await mirror_approval(rt, capsule.id)


async def park(run: SessionRun, capsules: list[Capsule]) -> None:
    """End the session awaiting approval; the cards go out after the state is durable."""
    await run.rt.index.put_approvals([approval_row(c) for c in capsules])
    ids = ", ".join(c.id for c in capsules)
    await run.finish(SessionState.AWAITING_APPROVAL, f"waiting for {ids}")
    failpoint("gate.after_park")
    await post_cards(run.rt, capsules)


async def run_loop(run: SessionRun) -> None:
    rt = run.rt
    tracker = BudgetTracker(rt.budgets, started=time.monotonic(), cost=rt.cost)
    while True:
        if rt.killed():
            await say(run, "The kill switch is on: I stopped before doing anything more.")
            await run.finish(SessionState.CANCELLED, "kill switch")
            return
        try:
            tracker.before_model_call(time.monotonic())
        except BudgetExceeded as exc:
            await say(run, f"I stopped here: {exc}. Mention me to continue.")
            await run.finish(SessionState.FAILED, str(exc))
            return
        try:
            reply = await rt.model.complete(
                system=rt.system_prompt, messages=run.transcript, tools=rt.registry.specs()
            )
        except Exception as exc:  # any provider failure ends the session cleanly
            reason = f"model call failed: {type(exc).__name__}: {exc}"
            run.trace("model_error", {"error": reason})
            await say(
                run,
                f"I could not get an answer from the model ({exc}). "
                "Your message is saved; mention me to try again.",
            )
            await run.finish(SessionState.FAILED, reason)
            return
        tracker.record(reply.model, reply.usage)
        assistant = AssistantMessage(
            text=reply.text,
            tool_calls=tuple(to_tool_call(c) for c in reply.tool_calls),
            stop_reason=reply.stop_reason,
            model=reply.model or rt.model.name,
            usage=reply.usage,
        )
        run.append(assistant)
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
            await say(run, assistant.text)
        if not assistant.tool_calls:
            if reply.stop_reason in ("max_tokens", "refusal"):
                note = (
                    "ran out of output tokens" if reply.stop_reason == "max_tokens" else "refused"
                )
                await say(run, f"(The model {note}; the answer above may be incomplete.)")
            failpoint("loop.before_finish")
            await run.finish(SessionState.COMPLETED, reply.stop_reason)
            return
        parked = await run_calls(run, assistant)
        if parked:
            await park(run, parked)
            return
