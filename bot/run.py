"""``signoff run``: the bot in the foreground, until SIGTERM or SIGINT.

``signoff dev`` runs the same bot (``app.SignoffBot``); this is the process around it for
``run``: a signal stops it, also one that comes during start-up (which is cut short);
one line on stdout says it is running and where its data is, and a reader of stdout
that has gone away does not stop it; on the way out the bot drains (``SignoffBot.stop``),
and a second signal (Ctrl-C pressed again) cuts the drain short.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable
from typing import TypeVar

from agent_core.cancelling import cancel_and_wait

from .app import SignoffBot
from .config import Settings
from .last_signals import exit_on_signal, hangup_stops, stop_was_asked
from .logs import log_event

__all__ = ["announce", "run_bot", "signals_spent", "stop_signals"]

log = logging.getLogger("signoff")
T = TypeVar("T")


def announce(text: str) -> None:
    """``text`` on stdout, for a person: ``run``'s and ``dev``'s lines."""
    try:
        print(text, flush=True)
    except OSError:
        # Nobody reads stdout any more (EPIPE), or the terminal is gone (EIO, after the
        # SIGHUP that stops the bot): carry on (logs go to stderr), and point stdout at
        # /dev/null so that the interpreter's last flush does not fail at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


async def _unless_stopped(step: Awaitable[T], stop: asyncio.Event) -> asyncio.Task[T] | None:
    """``step`` run to its end, or cancelled and None if a signal came first: start-up can
    wait on Slack for as long as it does not answer (auth.test in the build, the Socket
    Mode endpoint in ``start``), and must not outlast a SIGTERM."""
    task = asyncio.ensure_future(step)
    signalled = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, signalled}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await cancel_and_wait(signalled)
        if not task.done():
            await cancel_and_wait(task)
    return None if task.cancelled() else task


def stop_signals() -> tuple[asyncio.Event, asyncio.Event]:
    """(stop, hurry) for the running loop: the first SIGTERM or SIGINT sets ``stop``, the
    next one ``hurry`` (Ctrl-C pressed again cuts the drain short). ``run`` and ``dev``.

    SIGHUP (the terminal or SSH session closed, ``kill -HUP``) stops it too: its default
    action killed the bot where it stood, silently, an approved call it was running cut
    and reported uncertain. It never hurries: systemd's ``SendSIGHUP=yes`` sends it right
    after SIGTERM. Left alone where the process was started with it ignored (``nohup``)."""
    stop, hurry = asyncio.Event(), asyncio.Event()
    signals = 0

    def signalled() -> None:
        # Counted, not an event cleared once the stop begins: two signals that reach the
        # loop together (``kill PID; kill PID``) are still two, and the second hurries.
        nonlocal signals
        signals += 1
        (stop if signals == 1 else hurry).set()

    def hung_up() -> None:
        if not stop.is_set():
            signalled()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, signalled)
    if hangup_stops():
        loop.add_signal_handler(signal.SIGHUP, hung_up)
    if stop_was_asked():  # before these handlers existed: start-up is cut short at once
        signalled()
    return stop, hurry


def signals_spent() -> None:
    """The stop is done: a SIGTERM, SIGINT or SIGHUP from now on ends the process with 0
    (``last_signals``). Taken from the loop first: closing it would reset them."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.remove_signal_handler(sig)  # False for one it never had
    exit_on_signal(0)


async def run_bot(settings: Settings) -> int:
    stop, hurry = stop_signals()  # also during start-up: it is cut short
    built = await _unless_stopped(SignoffBot.build(settings), stop)
    if built is None:  # the build closed what it had opened
        log_event(log, "stopping", drain_s=settings.drain_s)
        log_event(log, "stopped")
        signals_spent()
        return 0
    bot = built.result()  # a start-up error (a refused token) ends the process here
    try:
        # Cut short by a signal, start-up goes on to the stop below like a running bot:
        # its log ends with "stopped" too, as every clean exit's does.
        started = await _unless_stopped(bot.start(), stop)
        if started is not None:
            started.result()
            where = f"; /healthz, /readyz, /metrics on {bot.ops.url}" if bot.ops else ""
            announce(
                f"signoff is running (data in {settings.home}{where}); Ctrl-C or SIGTERM stops it"
            )
            await stop.wait()
        log_event(log, "stopping", drain_s=bot.drain_s)
    finally:
        await bot.stop(hurry=hurry)
    log_event(log, "stopped")
    signals_spent()
    return 0
