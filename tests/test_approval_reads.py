"""A worker's pass over its thread reads each approval from disk once (approvals/read_once.py).

Between a click on Approve and its tool, the capsule was read and its hash checked six
times: the stale check, whether the decision is work, whether its batch is ready, settle's
scan of the lineage, the live view's people, each opening it again. Now the click reads it
once and the pass once, and the hash is checked once more right before the call runs.
"""

from __future__ import annotations

import traceback
from collections import Counter
from pathlib import Path

import pytest
from engine_support import EngineFactory, message, restarts

import sessions
from agent_core.engine import Engine
from agent_core.surface import RecordingSurface
from approvals import ApprovalRequest, Capsule, HashMismatchError, read_once
from sessions import Home


def _where() -> str:
    names = {frame.name for frame in traceback.extract_stack()}
    if "process_thread" in names:
        return "pass"
    return "click" if "decide" in names else "elsewhere"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Reads of capsule files and hash checks (the real ones, counted), by where they ran."""
    seen: Counter[str] = Counter()
    read_file = sessions.read_file
    verify_hash = Capsule.verify_hash

    def counting_read(path: str | Path) -> bytes:
        seen[f"read in {_where()}"] += 1
        return read_file(path)

    def counting_verify(capsule: Capsule) -> None:
        seen[f"hash in {_where()}"] += 1
        verify_hash(capsule)

    monkeypatch.setattr("approvals.capsule.read_file", counting_read)
    monkeypatch.setattr(Capsule, "verify_hash", counting_verify)
    return seen


async def _asked(engine: Engine, surface: RecordingSurface) -> str:
    """The approval of a gated call the model asked for."""
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    return surface.cards[0].id


async def test_a_click_and_its_pass_each_read_the_capsule_once(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface, counted: Counter[str]
) -> None:
    engine = await make_engine()
    approval_id = await _asked(engine, surface)
    counted.clear()
    await engine.decide(approval_id, user="U0BOB", approve=True)
    await engine.idle()
    assert restarts(home) == 1
    assert counted["read in click"] == 1
    assert counted["read in pass"] == 1
    # The pass's first open, then realize's own check right before the call runs.
    assert counted["hash in pass"] == 2


async def test_outside_a_pass_every_open_reads_the_disk_and_a_pass_keeps_no_failed_check(
    make_engine: EngineFactory, home: Home, surface: RecordingSurface, counted: Counter[str]
) -> None:
    engine = await make_engine()
    approval_id = await _asked(engine, surface)
    counted.clear()
    for _ in range(3):
        ApprovalRequest.open(home, approval_id)
    assert counted["read in elsewhere"] == 3
    with read_once():
        for _ in range(3):
            ApprovalRequest.open(home, approval_id)
    assert counted["read in elsewhere"] == 4

    # A capsule changed on disk is caught by the next pass, and every open in it is
    # refused: the pass keeps the capsule as the disk holds it (read once), never a check
    # that failed, so each open checks it again.
    approvals = ApprovalRequest.open(home, approval_id).session_dir / "approvals"
    path = approvals / f"{approval_id}.json"
    path.write_text(path.read_text().replace('"api"', '"web"'))
    counted.clear()
    with read_once():
        for _ in range(2):
            with pytest.raises(HashMismatchError):
                ApprovalRequest.open(home, approval_id)
    assert counted["read in elsewhere"] == 1
    assert counted["hash in elsewhere"] == 2
