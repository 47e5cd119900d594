"""Index rows from many turns, committed together.

One put was two hops to the database thread (its statement, its commit), and under a
burst of new threads every turn's puts queued behind each other's. Puts need no answer,
so each joins the batch being gathered: one ``executemany`` per statement and one commit
for everything queued meanwhile. Order is kept within a statement, so a later put of the
same row still wins; a failed batch fails every put in it (their files stay the truth).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import aiosqlite

__all__ = ["GroupCommit"]

Rows = Sequence[Sequence[Any]]


class GroupCommit:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._queued: list[tuple[str, Rows, asyncio.Future[None]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def put(self, sql: str, rows: Rows) -> None:
        """Run ``sql`` for each row, committed with whatever else is queued."""
        if not rows:
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queued.append((sql, rows, done))
        if self._flushing is None or self._flushing.done():
            self._flushing = loop.create_task(self._flush())
        await done

    async def drain(self) -> None:
        """Wait until nothing is queued (before the connection closes)."""
        while self._flushing is not None and not self._flushing.done():
            await asyncio.wait([self._flushing])

    async def _flush(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            try:
                await self._commit(batch)
            except Exception as exc:
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _commit(self, batch: list[tuple[str, Rows, asyncio.Future[None]]]) -> None:
        by_statement: dict[str, list[Sequence[Any]]] = {}
        for sql, rows, _ in batch:
            by_statement.setdefault(sql, []).extend(rows)
        try:
            for sql, rows in by_statement.items():
                async with self._conn.executemany(sql, rows):
                    pass
            await self._conn.commit()
        except BaseException:
            await self._conn.rollback()
            raise
