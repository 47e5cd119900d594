"""The two halves of a graceful stop: wait for running turns, then close every part
(``drain_and_close``, what ``SignoffBot.stop`` does once it takes no more work).

Closing goes on past a part that fails: a port or socket left open outlives the bot (a
restart in the same process cannot bind it, and aiohttp warns of an unclosed session).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from agent_core.cancelling import cancel_and_wait
from agent_core.engine import Engine

from .logs import log_event

if TYPE_CHECKING:
    from .app import SignoffBot

__all__ = ["drain_and_close", "run_every", "wait_for_turns"]

log = logging.getLogger("signoff")


async def wait_for_turns(
    engine: Engine, *, grace: float, deadline: float, hurry: asyncio.Event | None
) -> float:
    """Wait for running turns up to ``grace`` seconds (until the monotonic ``deadline``),
    or until ``hurry`` is set (a second signal); returned is the deadline left for what
    still runs (now, if hurried). What went wrong waiting is raised."""
    idle = asyncio.ensure_future(engine.idle())
    hurried = asyncio.ensure_future((hurry or asyncio.Event()).wait())
    try:
        await asyncio.wait({idle, hurried}, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in (idle, hurried):
            if not waiting.done():
                await cancel_and_wait(waiting)
    if idle.done() and not idle.cancelled():
        idle.result()  # idle (a second signal at the same moment changes nothing), or why not
        return deadline
    if hurried.done() and not hurried.cancelled():
        log_event(
            log,
            "drain_cut_short",
            level=logging.WARNING,
            reason="a second signal; recovery will continue the running turns",
        )
        return time.monotonic()
    log.warning("turns still running after %.0fs; recovery will continue them", grace)
    return deadline


async def run_every(steps: Sequence[Callable[[], Awaitable[object]]]) -> BaseException | None:
    """Run each step in order whatever the one before did (a cancel too: the ports and
    sessions after it are closed first); the first failure, logged."""
    first: BaseException | None = None
    for step in steps:
        try:
            await step()
        except BaseException as error:
            if not isinstance(error, asyncio.CancelledError):
                log.exception("a step of stopping failed; the rest still run")
            first = first or error
    return first


async def drain_and_close(
    bot: SignoffBot, *, grace: float, hurry: asyncio.Event | None
) -> BaseException | None:
    """Close the Socket Mode link for good, give running turns ``grace`` seconds (or until
    ``hurry`` is set), then close every part of ``bot``: the first failure, for the caller
    to raise once everything is closed."""
    try:
        await bot.socket.call(bot.handler.client.stop())
    except Exception:
        log.exception("could not close the Socket Mode link cleanly")
    failure: BaseException | None = None
    deadline = time.monotonic() + grace
    try:
        deadline = await wait_for_turns(bot.engine, grace=grace, deadline=deadline, hurry=hurry)
    except BaseException as error:  # what went wrong waiting (a cancel too): raised
        failure = error  # once everything is closed

    def left() -> float:  # of the grace; a second at least, for envelopes mid-store
        return max(deadline - time.monotonic(), 1.0)

    steps: list[Callable[[], Awaitable[object]]] = [
        lambda: bot.socket.call(bot.handler.frames_done(within=left())),
        lambda: bot.socket.call(bot.ingest.drain(within=left())),
        bot.socket.stop,
    ]
    if bot.home_tab is not None:
        steps.append(bot.home_tab.close)
    # A turn begun after the wait above (a message or click from a frame that was in
    # flight, a retry) gets what is left of the grace, then is cut.
    steps.append(lambda: bot.engine.close(cut_after=max(0.0, deadline - time.monotonic())))
    if (live := bot.live) is not None:

        async def live_streams_end() -> None:
            live.stopping()
            await live.streams.drain(within=2.0)

        steps.append(live_streams_end)
    if bot.ops is not None:
        steps.append(bot.ops.stop)
    if bot.http is not None:
        steps.append(bot.http.close)
    closing = await run_every(steps)
    return failure or closing  # the first thing that went wrong
