"""Reminders, escalation and stranded quorums, driven by timer markers on disk."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from governance_support import approve, park, posts, request, sweep

from agent_core.demo_fleet import demo_registry
from agent_core.engine import Engine
from agent_core.offline import OfflineModel
from approvals import (
    Decided,
    Escalated,
    NoGroups,
    Policy,
    PolicyRule,
    QuorumCompleted,
    Refused,
    Reminded,
    Reminder,
    StaticGroups,
    Timers,
    Vote,
    sweep_expired,
)
from sessions import FixedClock, Home, Index, Outbox, OutboxDone, atomic, readable_utc, utc_iso

REMIND = PolicyRule(
    approver_users=("U0BOB",),
    approver_groups=("S0APPROVERS",),
    remind_after_seconds=2 * 3600,
    max_reminders=2,
    expires_after_seconds=24 * 3600,
)
ESCALATE = REMIND.model_copy(
    update={"escalate_after_seconds": 5 * 3600, "escalate_groups": ("S0ONCALL",)}
)
GROUPS = StaticGroups({"S0ONCALL": frozenset({"U0CAROL"}), "S0APPROVERS": frozenset({"U0DAVE"})})


def test_markers_sort_by_time_are_idempotent_and_ignore_strangers(home: Home) -> None:
    timers = Timers(home)
    late = timers.arm("appr_00000000000000bb", "2026-11-02T11:00:00.000Z")
    early = timers.arm("appr_00000000000000aa", "2026-11-02T10:00:00.000Z")
    assert timers.arm("appr_00000000000000aa", "2026-11-02T10:00:00.000Z") == early
    (timers.root / ".tmp-leftover").write_bytes(b"")
    assert timers.due("2026-11-02T09:59:59.999Z") == []
    assert timers.due("2026-11-02T10:30:00.000Z") == [(early, "appr_00000000000000aa")]
    assert [n for n, _ in timers.due("2026-11-03T00:00:00.000Z")] == [early, late]
    timers.disarm(early)
    timers.disarm("../../etc/passwd")  # not a marker name: nothing happens
    assert timers.armed("appr_00000000000000aa") == []


def test_a_request_arms_its_first_reminder_when_it_is_created(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, REMIND)
    (marker,) = Timers(home).armed(capsule.id)
    assert marker.startswith("20261102T110000000Z.")  # created 09:00, reminded at 11:00
    quiet = park(home, clock)  # no reminders, no escalation: nothing to arm
    assert Timers(home).armed(quiet.id) == []


async def test_reminders_fire_once_each_ping_who_has_not_approved_and_stop_at_the_maximum(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, REMIND.model_copy(update={"quorum": 2}))
    assert await sweep(home, clock) == []  # nothing due yet
    clock.advance(timedelta(hours=2))
    (step,) = await sweep(home, clock)
    assert isinstance(step, Reminded) and step.reminder.n == 1
    assert step.reminder.pinged == ("U0BOB", "S0APPROVERS")
    (text,) = posts(home).values()
    assert text.startswith("⏰ Reminder 1 of 2: `scale_service` (asked by <@U0ALICE>)")
    assert "has waited 2h" in text and "<@U0BOB> <!subteam^S0APPROVERS>" in text
    expires = readable_utc(capsule.expires_at)  # as people read it, not an ISO stamp
    assert text.endswith(f"it expires at {expires}.") and expires.endswith(" UTC")
    assert await sweep(home, clock) == []  # the same time again: nothing new
    # Bob approves (1 of 2): the next reminder pings only the group.
    assert not isinstance(await approve(home, capsule, "U0BOB", clock), Refused)
    clock.advance(timedelta(hours=2))
    (step,) = await sweep(home, clock)
    assert isinstance(step, Reminded) and step.reminder.pinged == ("S0APPROVERS",)
    assert set(posts(home)) == {f"remind-1-{capsule.id}", f"remind-2-{capsule.id}"}
    clock.advance(timedelta(hours=10))
    assert await sweep(home, clock) == []  # at most max_reminders
    assert Timers(home).armed(capsule.id) == []
    assert len(request(home, capsule, clock).reminders()) == 2


async def test_reminders_that_fell_due_while_nothing_ran_are_one_post(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, REMIND.model_copy(update={"max_reminders": 5}))
    clock.advance(timedelta(hours=7))  # reminders 1, 2 and 3 were due
    (step,) = await sweep(home, clock)
    assert isinstance(step, Reminded) and step.reminder.n == 3
    assert list(posts(home)) == [f"remind-3-{capsule.id}"]
    (marker,) = Timers(home).armed(capsule.id)
    assert marker.startswith("20261102T170000000Z.")  # reminder 4 at 8h


async def test_no_reminder_for_a_decided_request_or_past_its_expiry(
    home: Home, clock: FixedClock
) -> None:
    decided = park(home, clock, REMIND)
    assert isinstance(await approve(home, decided, "U0BOB", clock), Decided)
    short = park(home, clock, REMIND.model_copy(update={"expires_after_seconds": 3 * 3600}))
    clock.advance(timedelta(hours=2))
    steps = await sweep(home, clock)
    assert [s.request.id for s in steps if isinstance(s, Reminded)] == [short.id]
    clock.advance(timedelta(hours=4))  # the next one would come after it expired
    assert await sweep(home, clock) == []
    assert Timers(home).armed(decided.id) == [] and Timers(home).armed(short.id) == []


async def test_escalation_adds_approvers_that_authorization_sees_and_pings_them(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, ESCALATE)
    before = await approve(home, capsule, "U0CAROL", clock, groups=GROUPS)
    assert isinstance(before, Refused) and "not an approver" in before.reason
    clock.advance(timedelta(hours=5))
    steps = await sweep(home, clock)
    escalated = [s for s in steps if isinstance(s, Escalated)]
    assert len(escalated) == 1 and escalated[0].escalation.added == ("S0ONCALL",)
    text = posts(home)[f"escalate-{capsule.id}"]
    assert text.startswith("⏫ No decision on `scale_service` (asked by <@U0ALICE>) after 5h")
    assert "escalated to <!subteam^S0ONCALL>" in text
    req = request(home, capsule, clock)
    assert req.escalated_approvers() == ("S0ONCALL",)
    assert "S0ONCALL" in req.row().approvers
    # The reminder due by now (the 4h one) went out in the same pass, after the
    # escalation, so it pings the escalated approvers too.
    (reminded,) = [s for s in steps if isinstance(s, Reminded)]
    assert reminded.reminder.n == 2 and "S0ONCALL" in reminded.reminder.pinged
    # The requester still may not decide; an escalated approver may.
    refused = await approve(home, capsule, "U0ALICE", clock, groups=GROUPS)
    assert isinstance(refused, Refused)
    done = await approve(home, capsule, "U0CAROL", clock, groups=GROUPS)
    assert isinstance(done, Decided) and done.decision.deciders == ("U0CAROL",)


async def test_a_crash_between_a_reminder_record_and_its_post_still_posts_it_once(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, REMIND)
    clock.advance(timedelta(hours=2))
    req = request(home, capsule, clock)
    # What a process killed right after the record leaves: the record, the marker, no post.
    req.write_reminder(
        Reminder(
            approval_id=capsule.id,
            n=1,
            due_at=utc_iso(clock.now()),
            at=utc_iso(clock.now()),
            pinged=("U0BOB",),
        )
    )
    assert posts(home) == {}
    assert await sweep(home, clock) == []  # nothing new was due...
    assert list(posts(home)) == [f"remind-1-{capsule.id}"]  # ... but its post is queued
    # Sent, then swept again (a restart): the done record keeps it from being queued again.
    outbox = Outbox(home)
    (entry,) = [e for e in outbox.pending() if e.kind == "reply"]
    outbox.complete([OutboxDone(id=entry.id, entry=entry, at=entry.created_at, outcome="sent")])
    Timers(home).arm(capsule.id, utc_iso(clock.now()))
    await sweep(home, clock)
    assert posts(home) == {}


async def test_a_quorum_whose_votes_are_in_but_whose_decision_a_crash_lost_is_decided(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, PolicyRule(quorum=2))
    req = request(home, capsule, clock)
    # Both votes on disk, no decision: the vote's process died before writing it. The
    # marker armed before the completing vote is what the sweep finds.
    for user in ("U0BOB", "U0CAROL"):
        vote = Vote(
            approval_id=capsule.id,
            user=user,
            approve=True,
            at=utc_iso(clock.now()),
            reason=f"{user} agrees",
            args_sha256=capsule.args_sha256,
        )
        assert req.write_vote(vote)
    req.arm_timer(utc_iso(clock.now()))
    (step,) = await sweep(home, clock)
    assert isinstance(step, QuorumCompleted)
    decision = request(home, capsule, clock).decision()
    assert decision is not None and decision.verdict == "approved"
    assert decision.deciders == ("U0BOB", "U0CAROL") and decision.reason == "U0CAROL agrees"


def test_a_tampered_request_is_never_reminded(home: Home, clock: FixedClock) -> None:
    capsule = park(home, clock, REMIND)
    path = home.session_dir(capsule.session_id) / "approvals" / f"{capsule.id}.json"
    data = json.loads(path.read_text())
    data["arguments"]["replicas"] = 100
    path.write_text(json.dumps(data))
    clock.advance(timedelta(hours=2))
    assert asyncio.run(sweep(home, clock)) == []
    assert posts(home) == {} and Timers(home).armed(capsule.id) == []


async def test_escalated_approvers_are_among_the_people_an_approval_concerns(
    home: Home, clock: FixedClock
) -> None:
    """The Home tab refreshes for the people an approval concerns: after an escalation
    that includes the approvers it added (here a group's members)."""
    capsule = park(home, clock, ESCALATE)
    engine = await Engine.open(
        home=home,
        surface=None,
        clock=clock,
        model=OfflineModel(),
        registry=demo_registry(),
        groups=GROUPS,
    )
    try:
        assert "U0CAROL" not in (await engine.concerned(capsule.id)).people
        clock.advance(timedelta(hours=5))
        assert [s for s in await sweep(home, clock) if isinstance(s, Escalated)]
        concerned = await engine.concerned(capsule.id)
        assert {"U0ALICE", "U0BOB", "U0DAVE", "U0CAROL"} <= concerned.people
    finally:
        await engine.close()


def _spread_ids(count: int) -> list[str]:
    """Approval ids whose shards (the two hex digits after the prefix) vary, as random ids'."""
    return [f"appr_{(i * 0x9E3779B97F4A7C15) % 2**64:016x}" for i in range(count)]


def _largest_dir(root: Path) -> int:
    return max((len(dirs) + len(files) for _, dirs, files in os.walk(root)), default=0)


def test_markers_shard_by_hour_and_request_so_no_directory_grows_with_the_home(
    home: Home,
) -> None:
    """A burst of requests with one reminder time left every marker in one directory
    (100k pending approvals, 100k entries); now ``timers/<hour>/<shard>/``."""
    timers, ids = Timers(home), _spread_ids(600)
    names = [timers.arm(i, "2026-11-02T10:00:00.000Z") for i in ids]
    later = timers.arm(ids[0], "2026-11-02T12:30:00.000Z")
    for name, approval_id in zip(names, ids, strict=True):
        assert (timers.root / "20261102T10" / approval_id[5:7] / name).is_file()
    assert (timers.root / "20261102T12" / ids[0][5:7] / later).is_file()
    assert _largest_dir(timers.root) <= 256
    due = timers.due("2026-11-02T11:00:00.000Z")
    assert due == sorted(zip(names, ids, strict=True))  # every due marker, oldest first
    assert [n for n, _ in timers.due("2026-11-03T00:00:00.000Z")][-1] == later
    assert timers.armed(ids[0]) == sorted([names[0], later])
    for name, _ in due:
        timers.disarm(name)
    timers.disarm(later)
    # Emptied shards and hours are removed, so a year of hours does not pile up.
    assert os.listdir(timers.root) == []
    assert timers.arm(ids[1], "2026-11-02T10:00:00.000Z") == names[1]  # and made again
    assert timers.due("2026-11-02T10:00:00.000Z") == [(names[1], ids[1])]


def test_markers_of_a_home_from_before_the_shards_are_still_due_and_disarmed(
    home: Home,
) -> None:
    timers = Timers(home)
    timers.root.mkdir(parents=True)
    flat = "20261102T090000000Z.appr_00000000000000aa"
    (timers.root / flat).write_bytes(b"")
    sharded = timers.arm("appr_00000000000000bb", "2026-11-02T09:30:00.000Z")
    assert timers.due("2026-11-02T10:00:00.000Z") == [
        (flat, "appr_00000000000000aa"),
        (sharded, "appr_00000000000000bb"),
    ]
    assert timers.armed("appr_00000000000000aa") == [flat]
    timers.disarm(flat)
    assert not (timers.root / flat).exists()
    assert timers.due("2026-11-02T10:00:00.000Z") == [(sharded, "appr_00000000000000bb")]


def test_arming_wins_a_race_with_a_disarm_that_empties_the_same_shard(home: Home) -> None:
    """A disarm removes a shard it emptied: a marker armed there at that moment (another
    thread, another process) makes the shard again rather than fail."""
    first, second = "appr_5a00000000000001", "appr_5a00000000000002"  # one shard, one hour
    failures: list[BaseException] = []

    def churn(approval_id: str) -> None:
        timers = Timers(home)
        try:
            for _ in range(400):
                name = timers.arm(approval_id, "2026-11-02T10:00:00.000Z")
                assert timers.armed(approval_id) == [name]
                timers.disarm(name)
        except BaseException as exc:  # reported below, with the other thread's
            failures.append(exc)

    atomic.set_fsync(False)
    try:
        threads = [threading.Thread(target=churn, args=(i,)) for i in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        atomic.set_fsync(True)
    assert failures == []
    assert Timers(home).due("2026-11-03T00:00:00.000Z") == []


def test_an_hour_a_racing_disarm_removed_is_made_again_and_synced_into_timers(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """make_dirs saw the hour there and planned to sync only the shard's entry in it; the
    sweep emptied and removed the hour before the mkdir, which made it again unsynced: a
    power cut then lost the hour, and the marker a vote relied on with it."""
    timers = Timers(home)
    theirs = timers.arm("appr_aa00000000000001", "2026-11-02T10:00:00.000Z")
    synced: list[str] = []
    real_fsync, real_mkdir = os.fsync, os.mkdir

    def recording(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    def after_the_sweep(path: str | os.PathLike[str], mode: int = 0o777) -> None:
        monkeypatch.setattr(os, "mkdir", real_mkdir)
        timers.disarm(theirs)  # the shard and hour it emptied go, between look and mkdir
        real_mkdir(path, mode)

    monkeypatch.setattr(os, "fsync", recording)
    monkeypatch.setattr(os, "mkdir", after_the_sweep)
    mine = timers.arm("appr_bb00000000000001", "2026-11-02T10:30:00.000Z")
    assert (timers.root / "20261102T10" / "bb" / mine).is_file()
    assert str(timers.root) in synced  # the hour's name, made again here
    assert str(timers.root / "20261102T10") in synced


def test_a_marker_from_before_the_shards_armed_again_is_due_once(home: Home) -> None:
    """Recovery reopens an untold request of a home from before: its marker is armed again
    in its shard, beside the flat one, and the sweep took the request twice a pass."""
    timers, approval_id = Timers(home), "appr_00000000000000aa"
    timers.root.mkdir(parents=True)
    flat = f"20261102T090000000Z.{approval_id}"
    (timers.root / flat).write_bytes(b"")
    assert timers.arm(approval_id, "2026-11-02T09:00:00.000Z") == flat
    assert timers.due("2026-11-02T10:00:00.000Z") == [(flat, approval_id)]
    assert timers.armed(approval_id) == [flat]
    timers.disarm(flat)
    assert timers.due("2026-11-02T10:00:00.000Z") == []


def test_the_sweep_removes_what_a_crash_left_in_past_hours(home: Home) -> None:
    """A crash between making a marker's directories and linking the marker leaves an
    empty shard (or one holding only the marker's temp file) that every sweep would list."""
    clock = FixedClock()
    timers, now = Timers(home), clock.now()
    past = timers.root / (now - timedelta(hours=3)).strftime("%Y%m%dT%H")
    (past / "aa").mkdir(parents=True)
    (past / "bb").mkdir()
    (past / "bb" / ".tmp-0123456789abcdef").write_bytes(b"")
    kept = timers.arm("appr_cc00000000000001", utc_iso(now - timedelta(hours=3)))
    current = timers.root / now.strftime("%Y%m%dT%H") / "dd"
    current.mkdir(parents=True)  # an arm of this hour may be about to write here
    timers.tidy(utc_iso(now))
    assert sorted(os.listdir(past)) == ["cc"] and timers.armed("appr_cc00000000000001") == [kept]
    assert current.is_dir()
    asyncio.run(sweep(home, clock))  # tidies too, then takes the marker (its request is gone)
    assert not past.exists() and timers.due(utc_iso(now)) == []


def test_arming_a_marker_that_is_armed_writes_nothing(home: Home) -> None:
    """A sweep arms the next time of each request whose marker it takes: one already armed
    is found, not learned by writing (and syncing) a temp file that cannot be linked."""
    timers = Timers(home)
    name = timers.arm("appr_5a00000000000001", "2026-11-02T10:00:00.000Z")
    [marker] = [p for p in (home.root / "timers").rglob(name)]
    before = os.stat(marker.parent).st_mtime_ns
    os.utime(marker.parent, ns=(before - 10**9, before - 10**9))  # any write would move it
    assert timers.arm("appr_5a00000000000001", "2026-11-02T10:00:00.000Z") == name
    assert os.stat(marker.parent).st_mtime_ns == before - 10**9


async def test_a_quorum_complete_before_the_deadline_is_approved_by_a_sweep_after_it(
    home: Home, clock: FixedClock
) -> None:
    """The last vote's process died before writing the decision, and no process ran again
    until the request had expired: its approvals came in time, so it is approved (when
    the last one came), not expired. One vote of two is not a quorum: that one expires."""
    rule = PolicyRule(quorum=2, expires_after_seconds=3600)
    complete, short = park(home, clock, rule), park(home, clock, rule)
    clock.advance(timedelta(minutes=10))
    votes = {complete.id: ("U0BOB", "U0CAROL"), short.id: ("U0BOB",)}
    for capsule in (complete, short):
        for user in votes[capsule.id]:
            vote = Vote(
                approval_id=capsule.id,
                user=user,
                approve=True,
                at=utc_iso(clock.now()),
                reason=f"{user} agrees",
                args_sha256=capsule.args_sha256,
            )
            assert request(home, capsule, clock).write_vote(vote)
    voted_at = utc_iso(clock.now())
    clock.advance(timedelta(hours=2))
    index = await Index.open(home.index_path)
    try:
        await index.put_approvals([request(home, c, clock).row() for c in (complete, short)])
        swept = {
            r.capsule.id: r
            for r in await sweep_expired(
                home, index, clock=clock, policy=Policy(), groups=NoGroups()
            )
        }
    finally:
        await index.close()
    approved, expired = swept[complete.id], swept[short.id]
    assert isinstance(approved, Decided) and approved.decision.verdict == "approved"
    assert approved.decision.deciders == ("U0BOB", "U0CAROL")
    assert approved.decision.at == voted_at and approved.decision.reason == "U0CAROL agrees"
    assert isinstance(expired, Decided) and expired.decision.verdict == "expired"
