"""``signoff run``: the bot in the foreground, until SIGTERM or SIGINT.

``signoff dev`` runs the same bot (``app.SignoffBot``); this is the process around it for
``run``: a signal stops it, also one that comes during start-up (it stops right after);
one line on stdout says it is running and where its data is, and a reader of stdout
that has gone away does not stop it; on the way out the bot drains (``SignoffBot.stop``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from agent_core.cancelling import cancel_and_wait

from .app import SignoffBot
from .config import Settings
from .logs import log_event

__all__ = ["run_bot"]

log = logging.getLogger("signoff")


def _announce(text: str) -> None:
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Nobody reads stdout any more: carry on (logs go to stderr), and point stdout at
        # /dev/null so that the interpreter's last flush does not fail at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


async def _started(bot: SignoffBot, stop: asyncio.Event) -> bool:
    """Start the bot; False if a signal came first (start-up can wait on Slack for as
    long as its Socket Mode endpoint does not answer, and must not outlast a SIGTERM)."""
    starting = asyncio.ensure_future(bot.start())
    signalled = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({starting, signalled}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await cancel_and_wait(signalled)
        if not starting.done():
            await cancel_and_wait(starting)
    if starting.cancelled():
        return False
    starting.result()  # a start-up error (a refused token) ends the process here
    return True


async def run_bot(settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)  # also during start-up: stop right after it
    bot = await SignoffBot.build(settings)
    try:
        if not await _started(bot, stop):
            log_event(log, "stopping", drain_s=bot.drain_s)
            return 0
        where = f"; /healthz, /readyz, /metrics on {bot.ops.url}" if bot.ops else ""
        _announce(
            f"signoff is running (data in {settings.home}{where}); Ctrl-C or SIGTERM stops it"
        )
        await stop.wait()
        log_event(log, "stopping", drain_s=bot.drain_s)
    finally:
        await bot.stop()
    log_event(log, "stopped")
    return 0
