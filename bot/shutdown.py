"""The two halves of a graceful stop: wait for running turns, then close every part.

Closing goes on past a part that fails: a port or socket left open outlives the bot (a
restart in the same process cannot bind it, and aiohttp warns of an unclosed session).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from agent_core.cancelling import cancel_and_wait
from agent_core.engine import Engine

from .logs import log_event

__all__ = ["run_every", "wait_for_turns"]

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
