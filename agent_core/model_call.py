"""One model call of a turn: its text streamed to the live view, cut short by a stop.

The call runs beside the thread's stop signal; when a person stops the agent while the
model is still writing, the call is cancelled at once (nothing was recorded yet, so
nothing is lost) and the stop is returned instead of a reply.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from .cancelling import cancel_and_wait
from .early_call import EarlyCall
from .live import LiveTurn
from .messages import UserMessage
from .model import ModelReply, RetryTap, TextSink, complete_streaming, provider_of
from .observe import ModelCall
from .retry_trace import RetryLog, retries_seen
from .session_run import SessionRun
from .stop_marker import StopRequest

__all__ = ["call_model", "live_turn"]

_MENTION = re.compile(r"<[@!#][^>]*>")
_TITLE_CHARS = 80


async def call_model(
    run: SessionRun, turn: LiveTurn, sink: TextSink, *, early: EarlyCall | None = None
) -> ModelReply | StopRequest:
    """The model's reply (its exceptions propagate), or the stop that interrupted it.

    ``early``, a call started before the turn's records were written, is used if it asked
    exactly this; otherwise it is let go and the model asked now. ``turn``: what the live
    view is told of, which hears of the provider's retries too."""
    rt = run.rt
    tools = rt.registry.specs()
    # The live view hears of the provider's retries: people see why nothing comes,
    # rather than "thinking" through minutes of an outage.
    sink = RetryTap(sink, lambda notice: rt.live.retrying(turn, notice))
    with rt.stops.watching(run.thread) as stopped:
        call: asyncio.Future[ModelReply]
        if early is not None and early.fits(run.transcript, tools):
            early.retries.bind(run)  # those it had before the session existed, first
            call = await early.take(sink)
        else:
            if early is not None:
                early.cancel()
            retries = RetryLog(provider_of(rt.model.name))
            retries.bind(run)
            call = asyncio.ensure_future(
                complete_streaming(
                    rt.model,
                    system=rt.system_prompt,
                    messages=run.transcript,
                    tools=tools,
                    sink=sink,
                    on_retry=retries_seen(rt, retries),
                )
            )
        cut = ModelCall(
            provider=provider_of(rt.model.name),
            outcome="cancelled",
            session_id=run.id,
            thread=run.thread,
        )
        either: set[asyncio.Future[Any]] = {call, stopped}
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the drain's deadline: the call was made all the same
            call.cancel()
            rt.observer.emit(cut)
            raise
        if call.done():
            return call.result()
        rt.observer.emit(cut)  # first: the drain may cut the wait below too
        await cancel_and_wait(call)  # a cancel of this worker (the drain) still reaches it
        return stopped.result()


def live_turn(run: SessionRun) -> LiveTurn:
    """What a live view needs to know about this run."""
    last = next((m for m in reversed(run.transcript) if isinstance(m, UserMessage)), None)
    title = ""
    if last is not None:
        words = " ".join(_MENTION.sub(" ", last.text).split())
        title = words if len(words) <= _TITLE_CHARS else words[: _TITLE_CHARS - 1] + "…"
    return LiveTurn(
        thread=run.thread,
        session_id=run.id,
        requester=run.requester,
        requester_team=run.requester_team,
        message_ts=last.ts if last is not None and run.record.cause == "message" else "",
        title=title,
        people=run.people(),
    )
