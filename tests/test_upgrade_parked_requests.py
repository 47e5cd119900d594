"""Requests parked by a version before the threads' open-approval markers (issue 8).

signoff until 2026-12-02 kept no ``threads/…/<ts>/approvals/<id>`` marker: a thread's
worker found its decided requests another way. Today's worker settles only what those
markers name, so a request that version parked, approved after the upgrade, never ran and
its thread never heard; one it had decided but not told (the bot stopped in between,
the index still saying "pending") stayed untold. docs/operations.md promises "requests
parked by the old version stay valid".
"""

from __future__ import annotations

import shutil
from typing import Any

from engine_support import THREAD, message, replies, restarts

from agent_core.demo_fleet import demo_registry
from agent_core.engine import Engine
from agent_core.offline import OfflineModel
from agent_core.surface import RecordingSurface
from approvals import NoGroups, Policy, decide
from sessions import Home, ThreadDir


async def _open(home: Home, clock: Any, surface: RecordingSurface) -> Engine:
    return await Engine.open(
        home=home, model=OfflineModel(), registry=demo_registry(), surface=surface, clock=clock
    )


async def _parked_by_an_old_version(home: Home, clock: Any) -> str:
    """A request parked as that version left it: capsule, pointer, card, index row; no
    thread marker and no timer (neither existed then)."""
    surface = RecordingSurface()
    engine = await _open(home, clock, surface)
    await engine.ingest(message("<@U0BOT> restart api", ts="1700000000.000100"))
    await engine.idle()
    await engine.close()
    approval_id = surface.cards[0].id
    marker = ThreadDir(home, THREAD).path / "approvals"
    assert (marker / approval_id).exists()
    shutil.rmtree(marker)
    shutil.rmtree(home.root / "timers", ignore_errors=True)
    return approval_id


async def test_a_request_parked_by_an_old_version_runs_once_when_approved(
    home: Home, clock: Any
) -> None:
    approval_id = await _parked_by_an_old_version(home, clock)
    surface = RecordingSurface()
    engine = await _open(home, clock, surface)
    try:
        await engine.recover()
        await engine.idle()
        await engine.decide(approval_id, user="U0BOB", approve=True)
        await engine.idle()
        # Before any restart: the approver is waiting for the call now.
        assert restarts(home) == 1
    finally:
        await engine.close()
    assert any("restart_service" in r for r in replies(surface)), surface.replies
    engine = await _open(home, clock, RecordingSurface())  # a second start runs nothing again
    try:
        counts = await engine.recover()
        await engine.idle()
    finally:
        await engine.close()
    assert restarts(home) == 1
    # The scan is a one-time upgrade step: later starts do not pay for it.
    assert (home.upgrade_dir / "open-approvals").exists() and counts["unmarked"] == 0


async def test_the_upgrade_scan_runs_once_per_home(home: Home, clock: Any) -> None:
    await _parked_by_an_old_version(home, clock)
    engine = await _open(home, clock, RecordingSurface())
    try:
        assert (await engine.recover())["unmarked"] == 1
        await engine.idle()
        shutil.rmtree(ThreadDir(home, THREAD).path / "approvals")  # not something today writes
        assert (await engine.recover())["unmarked"] == 0
    finally:
        await engine.close()


async def test_a_request_an_old_version_decided_but_never_told_is_told(
    home: Home, clock: Any
) -> None:
    approval_id = await _parked_by_an_old_version(home, clock)
    # The old bot recorded the click, then stopped before its worker ran: the decision
    # is on disk, the index still says pending.
    await decide(
        home,
        approval_id,
        user="U0BOB",
        approve=True,
        policy=Policy(),
        groups=NoGroups(),
        clock=clock,
    )
    surface = RecordingSurface()
    engine = await _open(home, clock, surface)
    try:
        await engine.recover()
        await engine.idle()
    finally:
        await engine.close()
    assert restarts(home) == 1
    assert any("restart_service" in r for r in replies(surface)), surface.replies
    assert ThreadDir(home, THREAD).open_approvals() == []
