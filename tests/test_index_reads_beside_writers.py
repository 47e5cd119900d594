"""An index write is not refused because a read of the same connection was in flight.

A read was two steps on the index's connection (the statement, then its rows), and other
coroutines' writes ran between them. SQLite's WAL keeps that read's snapshot open meanwhile,
and a write on a connection holding a snapshot that another process has since moved past
fails at once ("database is locked", SQLITE_BUSY_SNAPSHOT: no busy timeout helps). The
soak saw it: a click's decision was recorded, mirroring it to the index failed so, and the
person was told "that was not done" of a decision that ran. Now a read is one step.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading

from sessions import Home, Index, ThreadKey


def _other_process_writes(path: str, stop: threading.Event) -> None:
    """What a terminal's decision does to the index meanwhile: small commits, one by one."""
    conn = sqlite3.connect(path, timeout=5)
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS elsewhere (n INTEGER)")
        n = 0
        while not stop.is_set():
            conn.execute("INSERT INTO elsewhere VALUES (?)", (n,))
            conn.commit()
            n += 1
            stop.wait(0.002)  # a terminal's writes come apart, not back to back
    finally:
        conn.close()


async def test_writes_beside_reads_and_another_writer_are_never_refused(tmp_path: object) -> None:
    home = Home(tmp_path / "home")  # type: ignore[operator]
    home.ensure()
    index = await Index.open(home.index_path)
    stop = threading.Event()
    other = threading.Thread(target=_other_process_writes, args=(str(home.index_path), stop))
    other.start()
    try:

        async def read() -> None:
            for _ in range(150):
                await index.counts()

        async def write(k: int) -> None:
            for n in range(150):
                thread = ThreadKey(
                    team="T0LOCAL", channel="C0OPS", thread_ts=f"17000{k}{n:04d}.0001"
                )
                await index.put_thread(thread, None, "2026-12-06T00:00:00.000Z")

        await asyncio.gather(read(), read(), write(1), write(2))
    finally:
        stop.set()
        other.join()
        await index.close()
