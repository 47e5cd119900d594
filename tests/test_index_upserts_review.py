"""The index's upserts against a rebuild: an engine's own puts (on an index of today's shape
and on one made before sessions and threads were WITHOUT ROWID) leave every read the
index offers exactly as ``reindex`` of the same home does."""

from __future__ import annotations

import sqlite3
from dataclasses import astuple
from datetime import datetime, timedelta
from typing import Any

import pytest
from engine_support import OLD_INDEX_SHAPE, THREAD, EngineFactory, message

from agent_core.surface import RecordingSurface
from approvals import scan_session_approvals
from sessions import FixedClock, Home, Index, ThreadKey, reindex


class TickingClock(FixedClock):
    """A second later at every look: a session's transitions each have their own time."""

    def now(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current


STATES = ("created", "running", "awaiting_approval", "completed", "failed", "cancelled")


def thread(n: int) -> ThreadKey:
    return ThreadKey(team=THREAD.team, channel=THREAD.channel, thread_ts=f"1700000000.00{n}00")


async def reads(index: Index, threads: list[ThreadKey]) -> dict[str, Any]:
    """What every read of the index answers (rows as tuples)."""
    out: dict[str, Any] = {"all": [astuple(r) for r in await index.sessions(limit=10_000)]}
    for state in STATES:
        out[f"state {state}"] = [astuple(r) for r in await index.sessions(states=[state])]
        out[f"iter {state}"] = [astuple(r) async for r in index.iter_sessions(states=[state])]
    out["iter"] = [astuple(r) async for r in index.iter_sessions(page=2)]
    out["channel"] = [astuple(r) for r in await index.sessions(channel=THREAD.channel)]
    for key in threads:
        out[f"thread {key.thread_ts}"] = [astuple(r) for r in await index.sessions(thread=key)]
        out[f"head {key.thread_ts}"] = await index.thread_head(key)
    out["tally"] = await index.tally()
    approvals = await index.approvals(limit=10_000)
    out["approvals"] = [astuple(a) for a in approvals]
    out["iter approvals"] = [astuple(a) async for a in index.iter_approvals(page=1)]
    for a in approvals:
        out[f"approval {a.id}"] = astuple(await index.approval(a.id) or a)
        if a.card_channel and a.card_ts:
            found = await index.approval_with_card(a.card_channel, a.card_ts)
            out[f"card {a.id}"] = None if found is None else found.id
    for user in ("U0ALICE", "U0BOB"):
        out[f"requested {user}"] = [a.id for a in await index.requested_by(user)]
        out[f"decided {user}"] = [a.id for a in await index.decided_for(user, since="")]
    return out


@pytest.mark.parametrize("shape", ["today", "before WITHOUT ROWID"])
async def test_puts_leave_the_index_as_a_rebuild_does(
    shape: str,
    make_engine: EngineFactory,
    surface: RecordingSurface,
    home: Home,
) -> None:
    if shape != "today":
        with sqlite3.connect(home.index_path) as old:
            old.executescript(OLD_INDEX_SHAPE)
    clock = TickingClock()
    engine = await make_engine(clock=clock)
    threads = [thread(n) for n in range(1, 5)]
    # Approved and run; denied; still pending; two plain turns in one thread.
    await engine.ingest(message("<@U0BOT> restart api", ts=threads[0].thread_ts, thread=threads[0]))
    await engine.ingest(message("<@U0BOT> restart web", ts=threads[1].thread_ts, thread=threads[1]))
    await engine.ingest(message("<@U0BOT> restart db", ts=threads[2].thread_ts, thread=threads[2]))
    await engine.ingest(
        message("<@U0BOT> status of api", ts=threads[3].thread_ts, thread=threads[3])
    )
    await engine.idle()
    clock.advance(timedelta(minutes=1))  # each step at its own time: updated_at must follow
    await engine.ingest(
        message("<@U0BOT> status of web", ts="1700000001.000100", thread=threads[3])
    )
    await engine.idle()
    clock.advance(timedelta(minutes=1))
    by_thread = {c.thread: c for c in surface.cards}
    await engine.decide(by_thread[threads[0]].id, user="U0BOB", approve=True)
    clock.advance(timedelta(minutes=1))
    await engine.decide(by_thread[threads[1]].id, user="U0BOB", approve=False, reason="not now")
    await engine.idle()
    incremental = await reads(engine.rt.index, threads)
    await engine.close()

    await reindex(home, scan_approvals=scan_session_approvals)
    rebuilt = await Index.open(home.index_path)
    try:
        assert await reads(rebuilt, threads) == incremental
    finally:
        await rebuilt.close()
    assert len(incremental["all"]) == 7  # parked and continued (2+2), pending, two turns
