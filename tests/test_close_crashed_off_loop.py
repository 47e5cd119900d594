"""Closing a session a crash left open waits for the session's directory lock on a disk
thread, as every other state change does: on the event loop, a lock held elsewhere (a
``signoff verify`` sealing it, or a process stopped while it held it, up to the store's
30 s bound) froze every other thread's turn and every click for as long."""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading
import time

from engine_support import THREAD, EngineFactory

from agent_core.worker import close_crashed
from sessions import FixedClock, Home, SessionState, SessionStore

HELD = 1.0  # seconds another holder keeps the session's lock


async def test_the_loop_runs_on_while_a_crashed_session_waits_for_its_lock(
    make_engine: EngineFactory, home: Home, clock: FixedClock
) -> None:
    engine = await make_engine()
    store = SessionStore(home, clock=clock)
    record = store.create(
        thread=THREAD, parent_id=None, cause="message", session_md="# Session\n", running=True
    )
    # Another holder of the directory's lock (flock: another open file description).
    fd = os.open(home.session_dir(record.id), os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    threading.Timer(HELD, os.close, args=(fd,)).start()

    gaps: list[float] = []

    async def tick() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        await close_crashed(engine.rt, record)
    finally:
        ticker.cancel()
    assert store.load(record.id).state is SessionState.FAILED
    assert len(gaps) > 10 and max(gaps) < HELD / 2, max(gaps, default=0.0)
