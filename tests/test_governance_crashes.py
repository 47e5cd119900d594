"""Governance under crashes and restarts: a new Engine on the same home between steps."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable, Coroutine
from datetime import timedelta

import pytest
from engine_support import EngineFactory, message, restarts, transcript
from governance_support import approve, park, request

from agent_core.engine import Engine
from agent_core.messages import ToolResultMessage
from agent_core.observe import DecisionRecorded, RecordingObserver
from agent_core.surface import RecordingSurface
from approvals import (
    ApprovalRequest,
    NoGroups,
    Policy,
    PolicyRule,
    QuorumCompleted,
    Timers,
    Vote,
    VoteCounted,
    record_edit,
    sweep_timers,
)
from sessions import FixedClock, Home, Outbox, utc_iso

QUORUM_VALID = Policy.from_mapping(
    {
        "tools": {
            "restart_service": {
                "approvers": ["U0BOB", "U0CAROL"],
                "quorum": 2,
                "valid_for": "5m",
            }
        }
    },
    source="test",
)


async def _killed_after_the_completing_vote(
    engine: Engine, home: Home, clock: FixedClock, surface: RecordingSurface
) -> tuple[str, str]:
    """Bob approved; Carol's vote completes the quorum and the process dies before the
    decision: what record_decision leaves then (marker, vote). (approval id, vote time)"""
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    (approval,) = [c.id for c in surface.cards]
    await engine.decide(approval, user="U0BOB", approve=True)
    request = ApprovalRequest.open(home, approval, clock=clock)
    at = utc_iso(clock.now())
    request.arm_timer(at)
    vote = Vote(approval_id=approval, user="U0CAROL", approve=True, at=at, reason="")
    assert request.write_vote(vote.model_copy(update={"args_sha256": request.capsule.args_sha256}))
    return approval, at


async def test_a_quorum_a_crash_left_undecided_is_approved_when_its_last_vote_came(
    make_engine: EngineFactory, home: Home, clock: FixedClock, surface: RecordingSurface
) -> None:
    """Carol's vote completed the quorum at 09:00 and the process died before the decision.
    The sweep that finds it hours later must not date the approval from then: the call had
    5 minutes to start after the approvers approved, so it is stale, never run."""
    engine = await make_engine(policy=QUORUM_VALID)
    approval, at = await _killed_after_the_completing_vote(engine, home, clock, surface)
    await engine.close()

    clock.advance(timedelta(hours=3))
    engine = await make_engine(policy=QUORUM_VALID)
    await engine.recover()
    await engine.idle()
    decision = ApprovalRequest.open(home, approval, clock=clock).decision()
    assert decision is not None and decision.verdict == "approved"
    assert decision.at == at and decision.deciders == ("U0BOB", "U0CAROL")
    assert restarts(home) == 0
    result = [m for m in transcript(home) if isinstance(m, ToolResultMessage)][-1]
    assert "went stale" in result.content
    assert Timers(home).armed(approval) == []


def _killed_at_link(
    home: Home, name_prefix: str, work: Callable[[], Coroutine[object, object, object]]
) -> None:
    """Run ``work`` in a forked child that is SIGKILLed as it links a file whose name starts
    with ``name_prefix`` into place: what a power cut at that moment leaves on disk."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        real_link = os.link

        def link(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
            if os.path.basename(dst).startswith(name_prefix):
                os.kill(os.getpid(), signal.SIGKILL)
            real_link(src, dst)

        os.link = link  # type: ignore[assignment]
        try:
            asyncio.run(work())
        finally:
            os._exit(3)  # not killed: the test fails on the exit status
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status


def test_an_edit_a_crash_kept_off_the_card_reaches_it_after_a_restart(
    home: Home, clock: FixedClock
) -> None:
    """Carol's edit is recorded and the process dies before the card's update is queued.
    The card went on showing the old arguments, and every Approve of what it showed was
    refused ("edited after you saw them; look at the card again") until the request
    expired: nothing ever queued that card again."""
    capsule = park(home, clock, PolicyRule(quorum=2))
    edited = {"service": "api", "replicas": 8}

    async def edit() -> object:
        return await record_edit(
            request(home, capsule, clock),
            user="U0CAROL",
            arguments=edited,
            tool_version="v1",
            base_sha256=capsule.args_sha256,
            policy=Policy(),
            groups=NoGroups(),
            clock=clock,
        )

    _killed_at_link(home, f"card-{capsule.id}-edit-1", edit)
    assert request(home, capsule, clock).current().arguments == edited
    clock.advance(timedelta(seconds=5))
    asyncio.run(
        sweep_timers(home, policy=Policy(), clock=clock, groups=NoGroups())
    )  # the restarted bot's sweep
    card = f"card-{capsule.id}-edit-1"
    assert card in {e.id for e in Outbox(home).pending()}
    assert Timers(home).armed(capsule.id) == []


def test_the_sweep_removes_a_marker_temp_file_a_crash_left_before_the_shards(
    home: Home, clock: FixedClock
) -> None:
    """Before the shards a marker was written straight under timers/: a crash there left
    its temp file, which no sweep removed (only those in past hours)."""
    timers = Timers(home)
    timers.root.mkdir(parents=True)
    (timers.root / ".tmp-0123456789abcdef").write_bytes(b"")
    flat = "20261102T090000000Z.appr_00000000000000aa"
    (timers.root / flat).write_bytes(b"")
    clock.advance(timedelta(hours=1))
    asyncio.run(
        sweep_timers(home, policy=Policy(), clock=clock, groups=NoGroups())
    )  # the flat marker's request is gone
    assert os.listdir(timers.root) == []


def test_the_sweep_dates_a_quorum_a_kill_left_undecided_from_its_completing_vote(
    home: Home, clock: FixedClock
) -> None:
    """Carol's vote completes the quorum at 09:07 and her process is killed as it links the
    decision; the sweep six hours later approves as of 09:07, valid until 09:17."""
    capsule = park(home, clock, PolicyRule(quorum=2, valid_for_seconds=600))
    assert isinstance(asyncio.run(approve(home, capsule, "U0BOB", clock)), VoteCounted)
    clock.advance(timedelta(minutes=7))
    completed = utc_iso(clock.now())

    async def carol() -> object:
        return await approve(home, capsule, "U0CAROL", clock, reason="load is down")

    _killed_at_link(home, f"{capsule.id}.decision.json", carol)
    assert request(home, capsule, clock).decision() is None
    clock.advance(timedelta(hours=6))
    (step,) = asyncio.run(sweep_timers(home, policy=Policy(), clock=clock, groups=NoGroups()))
    assert isinstance(step, QuorumCompleted)
    decision = request(home, capsule, clock).decision()
    assert decision is not None and decision.deciders == ("U0BOB", "U0CAROL")
    assert decision.at == completed and decision.reason == "load is down"
    assert decision.valid_until == utc_iso(clock.now() - timedelta(hours=6) + timedelta(minutes=10))
    assert Timers(home).armed(capsule.id) == []


def test_a_completing_vote_a_sweep_raced_and_a_kill_cut_short_is_still_decided(
    home: Home, clock: FixedClock
) -> None:
    """Carol's vote arms a marker "now", then is written, then the decision; another
    process's sweep took the marker between the first two (it saw one vote of two, and
    dropped it), and a kill came before the decision: no marker was left, and the
    request, approved by both, waited for its expiry. (A vote is now armed, written and
    counted under the request's lock, which the sweep waits for before it looks at the
    votes: the racing sweep waits there until the kill.)"""
    capsule = park(home, clock, PolicyRule(quorum=2))
    assert isinstance(asyncio.run(approve(home, capsule, "U0BOB", clock)), VoteCounted)
    swept: list[object] = []

    async def carol() -> object:
        killing = os.link  # the child's: kills it at the decision

        def sweep_first(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
            if os.path.basename(dst) == "U0CAROL.json" and not swept:
                # Another process's sweep: a thread, as this one's loop is running; it
                # waits for the lock Carol's approval holds, and dies with her process.
                other = threading.Thread(
                    target=lambda: asyncio.run(
                        sweep_timers(home, policy=Policy(), clock=clock, groups=NoGroups())
                    ),
                    daemon=True,
                )
                swept.append(other)
                other.start()
            killing(src, dst)

        os.link = sweep_first  # type: ignore[assignment]
        return await approve(home, capsule, "U0CAROL", clock)

    _killed_at_link(home, f"{capsule.id}.decision.json", carol)
    assert request(home, capsule, clock).decision() is None
    clock.advance(timedelta(seconds=5))
    (step,) = asyncio.run(sweep_timers(home, policy=Policy(), clock=clock, groups=NoGroups()))
    assert isinstance(step, QuorumCompleted)
    assert Timers(home).armed(capsule.id) == []


def test_a_vote_that_lands_while_the_sweep_drops_its_marker_is_looked_at_again(
    home: Home, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep took Carol's "now" marker, saw one vote of two, and as it dropped the
    marker her vote landed (and her own re-arming of it, which the drop then removed);
    she was killed before the decision. The sweep looks again after dropping a marker."""
    capsule = park(home, clock, PolicyRule(quorum=2))
    assert isinstance(asyncio.run(approve(home, capsule, "U0BOB", clock)), VoteCounted)
    at = utc_iso(clock.now())
    carols = request(home, capsule, clock)
    carols.arm_timer(at)
    real_disarm = Timers.disarm

    def vote_lands_first(self: Timers, name: str) -> None:
        vote = Vote(
            approval_id=capsule.id,
            user="U0CAROL",
            approve=True,
            at=at,
            reason="",
            args_sha256=capsule.args_sha256,
        )
        if carols.write_vote(vote):
            carols.arm_timer(at)
        real_disarm(self, name)

    monkeypatch.setattr(Timers, "disarm", vote_lands_first)
    assert asyncio.run(sweep_timers(home, policy=Policy(), clock=clock, groups=NoGroups())) == []
    monkeypatch.undo()
    clock.advance(timedelta(seconds=5))
    (step,) = asyncio.run(sweep_timers(home, policy=Policy(), clock=clock, groups=NoGroups()))
    assert isinstance(step, QuorumCompleted)
    assert Timers(home).armed(capsule.id) == []


async def test_a_quorum_the_sweep_completes_is_reported_as_a_decision(
    make_engine: EngineFactory, home: Home, clock: FixedClock, surface: RecordingSurface
) -> None:
    """Metrics (``signoff_approvals_total``), the log and every Home tab learn of decisions
    from ``DecisionRecorded``: one the sweep completes after a crash is one too."""
    quorum = Policy.from_mapping(
        {"tools": {"restart_service": {"approvers": ["U0BOB", "U0CAROL"], "quorum": 2}}},
        source="test",
    )
    engine = await make_engine(policy=quorum)
    approval, _ = await _killed_after_the_completing_vote(engine, home, clock, surface)
    await engine.close()

    observer = RecordingObserver()
    engine = await make_engine(policy=quorum, observer=observer)
    await engine.recover()
    await engine.idle()
    assert restarts(home) == 1
    decided = [e for e in observer.events if isinstance(e, DecisionRecorded)]
    assert [(e.approval_id, e.verdict, e.user) for e in decided] == [
        (approval, "approved", "U0CAROL")
    ]
