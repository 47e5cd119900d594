"""Everyone whose message a request answered sees it on their Home tab: under "Your open
requests" while it waits and under "Recently decided" after, as the first asker does,
also after the index is rebuilt from the files."""

from __future__ import annotations

import sqlite3

from engine_support import EngineFactory, call, text, two_askers_turn

from agent_core.engine import Engine
from agent_core.scripted import ScriptedModel
from approvals import Decided, scan_session_approvals
from sessions import Home, reindex
from sessions.index import REQUESTED_BY
from sessions.index_schema import SCHEMA


async def _two_askers(make_engine: EngineFactory) -> tuple[Engine, str]:
    model = ScriptedModel([call("restart_service", {"service": "api"}), text("done")])
    engine = await make_engine(model=model)
    await two_askers_turn(engine)
    (waiting,) = await engine.waiting()
    return engine, waiting.capsule.id


async def test_a_co_requester_sees_the_request_waiting_and_then_decided(
    make_engine: EngineFactory,
) -> None:
    engine, approval_id = await _two_askers(make_engine)
    for asker in ("U0ALICE", "U0BOB"):
        assert [r.capsule.id for r in await engine.requests_of(asker)] == [approval_id]
    assert await engine.requests_of("U0CAROL") == []
    assert isinstance(await engine.decide(approval_id, user="U0CAROL", approve=True), Decided)
    await engine.idle()
    for asker in ("U0ALICE", "U0BOB"):
        assert await engine.requests_of(asker) == []
        assert [d.capsule.id for d in await engine.recently_decided(asker)] == [approval_id]


async def test_co_requesters_survive_a_rebuilt_index(
    make_engine: EngineFactory, home: Home
) -> None:
    engine, approval_id = await _two_askers(make_engine)
    await engine.close()
    home.index_path.unlink()
    await reindex(home, scan_approvals=scan_session_approvals)
    again = await make_engine()
    assert [r.capsule.id for r in await again.requests_of("U0BOB")] == [approval_id]


async def test_an_index_built_before_the_askers_table_gains_it_when_opened(
    make_engine: EngineFactory, home: Home
) -> None:
    engine, approval_id = await _two_askers(make_engine)
    await engine.close()
    with sqlite3.connect(home.index_path) as conn:
        conn.execute("DROP TABLE approval_askers")  # as an earlier version left it
    again = await make_engine()
    # The first asker is in the approvals row itself; the other comes back with a rebuild.
    assert [r.capsule.id for r in await again.requests_of("U0ALICE")] == [approval_id]
    assert await again.requests_of("U0BOB") == []


def test_a_person_s_open_requests_are_found_by_index_not_by_reading_every_pending_row() -> None:
    conn = sqlite3.connect(":memory:")
    conn.executescript(SCHEMA)
    plan = " ".join(
        str(row[3]) for row in conn.execute("EXPLAIN QUERY PLAN " + REQUESTED_BY, ("U", "U", 10))
    )
    assert "approvals_requester (requester=? AND status=?)" in plan
    assert "approvals_status" not in plan and "SCAN" not in plan, plan
