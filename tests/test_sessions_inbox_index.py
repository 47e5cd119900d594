"""Unit tests for the thread inbox (Maildir), the SQLite index and reindex."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import sqlite3
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from engine_support import THREAD, message

import approvals
from approvals import ApprovalRequest, Decision, PolicyRule, build_capsule
from sessions import (
    ApprovalRow,
    FixedClock,
    Home,
    Inbox,
    InboxMessage,
    Index,
    InvalidIdError,
    SessionRecord,
    SessionState,
    SessionStore,
    ThreadDir,
    ThreadKey,
    reindex,
    utc_iso,
    verify,
)

S = SessionState
OTHER = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1700000099.000200")


def _inbox(home: Home, thread: ThreadKey = THREAD) -> Inbox:
    tdir = ThreadDir(home, thread)
    tdir.ensure()
    return tdir.inbox


def _staged(inbox: Inbox) -> list[str]:
    """Copies being staged (or left by a crash) in ``new/``."""
    return [n for n in os.listdir(inbox.new) if n.startswith(".")]


# inbox ----------------------------------------------------------------------------------
def test_deliver_stores_the_message_in_new(home: Home) -> None:
    inbox = _inbox(home)
    msg = message("restart api", ts="1700000000.000100")
    assert inbox.deliver(msg) is True
    assert os.listdir(inbox.new) == ["1700000000.000100"]
    assert InboxMessage.model_validate_json((inbox.new / msg.ts).read_bytes()) == msg
    assert not _staged(inbox)
    assert inbox.waiting(msg.ts)
    assert inbox.pending() == [msg]
    assert inbox.taken() == []


def test_deliver_creates_the_maildir_on_first_use(home: Home) -> None:
    inbox = ThreadDir(home, THREAD).inbox
    assert not inbox.root.exists()
    assert inbox.deliver(message("hi", ts="1.000001")) is True
    assert inbox.pending()[0].text == "hi"


def test_duplicate_delivery_is_refused(home: Home) -> None:
    inbox = _inbox(home)
    first = message("restart api", ts="1700000000.000100")
    twin = first.model_copy(update={"text": "restart api (message twin)", "event_id": "EvTwin"})
    assert inbox.deliver(first) is True
    assert inbox.deliver(first) is False
    assert inbox.deliver(twin) is False
    assert inbox.pending() == [first]
    assert not _staged(inbox)


def test_consumed_message_is_not_redelivered(home: Home) -> None:
    inbox = _inbox(home)
    msg = message("restart api", ts="1700000000.000100")
    inbox.deliver(msg)
    inbox.mark_consumed(msg.ts)
    assert os.listdir(inbox.new) == []
    assert inbox.taken() == [msg.ts]
    assert not inbox.waiting(msg.ts)
    assert inbox.deliver(msg) is False
    assert os.listdir(inbox.new) == []
    assert inbox.pending() == []
    assert inbox.taken() == [msg.ts]


def test_mark_consumed_is_idempotent(home: Home) -> None:
    inbox = _inbox(home)
    msg = message("restart api", ts="1700000000.000100")
    inbox.deliver(msg)
    inbox.mark_consumed(msg.ts)
    inbox.mark_consumed(msg.ts)
    assert inbox.taken() == [msg.ts]
    assert os.listdir(inbox.new) == []
    # Never delivered: nothing to move, nothing created.
    inbox.mark_consumed("1700000005.000000")
    assert inbox.taken() == [msg.ts]
    with pytest.raises(InvalidIdError):
        inbox.mark_consumed("../../HEAD")


def test_mark_consumed_finishes_a_move_cut_short(home: Home) -> None:
    """A crash between recording it taken and the unlink from new/ leaves both; consuming
    again heals, and records it once."""
    inbox = _inbox(home)
    msg = message("restart api", ts="1700000000.000100")
    inbox.deliver(msg)
    inbox.taken_log.add(msg.ts)
    inbox.mark_consumed(msg.ts)
    assert inbox.taken_log.path.read_text().count(msg.ts) == 1
    assert os.listdir(inbox.new) == []
    assert inbox.taken() == [msg.ts]


def test_a_home_from_before_keeps_what_its_cur_says_was_taken(home: Home) -> None:
    """Homes written before the taken log kept a consumed message as a file in ``cur/``:
    Slack sending it again is still refused, and it is listed first."""
    inbox = _inbox(home)
    old = message("asked long ago", ts="1700000000.000100")
    inbox.legacy_cur.mkdir()
    (inbox.legacy_cur / old.ts).write_bytes(old.model_dump_json().encode())
    assert inbox.deliver(old) is False
    new = message("asked now", ts="1700000000.000200")
    assert inbox.deliver(new) is True
    inbox.mark_consumed(new.ts)
    assert inbox.taken() == [old.ts, new.ts]
    assert inbox.pending() == []


def test_a_torn_last_line_of_the_taken_log_takes_nothing(home: Home) -> None:
    """A crash mid-append leaves part of a line: it is no record (the message is still in
    new/ and is taken again), and the next append ends it first."""
    inbox = _inbox(home)
    first, second = (message(t, ts=f"1700000000.00010{n}") for n, t in enumerate("ab"))
    inbox.deliver(first)
    inbox.deliver(second)
    inbox.mark_consumed(first.ts)
    with inbox.taken_log.path.open("ab") as log:
        log.write(b'{"ts": "1700000000.000101')  # cut short by a crash
    assert not inbox.taken_log.has(second.ts)
    assert [m.ts for m in inbox.pending()] == [second.ts]
    inbox.mark_consumed(second.ts)
    assert inbox.taken() == [first.ts, second.ts]
    assert _inbox(home).taken() == [first.ts, second.ts]


def test_pending_is_sorted_by_numeric_ts(home: Home) -> None:
    inbox = _inbox(home)
    stamps = ["1700000002.000000", "1700000000.000100", "999999999.900000", "1700000000.000099"]
    for ts in stamps:
        assert inbox.deliver(message(f"m{ts}", ts=ts))
    assert [m.ts for m in inbox.pending()] == [
        "999999999.900000",
        "1700000000.000099",
        "1700000000.000100",
        "1700000002.000000",
    ]


def test_deliver_rejects_a_ts_that_would_be_a_path(home: Home) -> None:
    inbox = _inbox(home)
    evil = message("x", ts="1.1").model_copy(update={"ts": "../../../HEAD"})
    with pytest.raises(InvalidIdError):
        inbox.deliver(evil)
    assert os.listdir(inbox.new) == []
    assert not _staged(inbox)
    assert not (ThreadDir(home, THREAD).path / "HEAD").exists()


def test_corrupt_inbox_file_is_set_aside_with_an_error(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    # Raised, it stopped every pass of its thread's worker (tests/test_inbox_unreadable.py).
    inbox = _inbox(home)
    (inbox.new / "1700000000.000100").write_text("{not a message")
    inbox.deliver(message("restart api", ts="1700000000.000200"))
    assert [m.ts for m in inbox.pending()] == ["1700000000.000200"]
    assert (inbox.root / "unreadable" / "1700000000.000100").read_text() == "{not a message"
    assert "1700000000.000100 is not a message" in caplog.text


def test_concurrent_deliveries_of_one_message_have_one_winner(home: Home) -> None:
    inbox = _inbox(home)
    msg = message("restart api", ts="1700000000.000100")
    barrier = threading.Barrier(8)
    results: list[bool] = []
    lock = threading.Lock()

    def deliverer() -> None:
        # Each thread uses its own Inbox object, as separate processes would.
        mine = ThreadDir(home, THREAD).inbox
        barrier.wait()
        outcome = mine.deliver(msg)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=deliverer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(results) == [False] * 7 + [True]
    assert os.listdir(inbox.new) == [msg.ts]
    assert not _staged(inbox)


def test_twins_in_one_process_write_the_message_once(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack sends an ``app_mention`` and its ``message`` twin together: the second waits
    for the first and finds it stored, instead of writing and fsyncing a copy to throw away."""
    import sessions.inbox as inbox_module

    inbox = _inbox(home)
    msg = message("restart api", ts="1700000000.000100")
    written: list[str] = []
    real_open = os.open

    def counting_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT and Path(path).parent == inbox.new:
            written.append(str(path))
        return real_open(path, flags, *args, **kwargs)

    def slow_fsync(fd: int) -> None:
        threading.Event().wait(0.05)  # a real disk: the twins overlap

    monkeypatch.setattr(os, "open", counting_open)
    monkeypatch.setattr(inbox_module, "fsync_file", slow_fsync)
    barrier = threading.Barrier(4)
    results: list[bool] = []

    def deliverer() -> None:
        mine = ThreadDir(home, THREAD).inbox
        barrier.wait()
        results.append(mine.deliver(msg))

    threads = [threading.Thread(target=deliverer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(results) == [False, False, False, True]
    assert len(written) == 1
    assert os.listdir(inbox.new) == [msg.ts]


def test_a_deleted_new_dir_is_made_again(home: Home) -> None:
    inbox = _inbox(home)
    inbox.new.rmdir()  # a person tidying up by hand
    assert inbox.deliver(message("restart api", ts="1700000000.000100")) is True
    assert os.listdir(inbox.new) == ["1700000000.000100"]


def _hook_link(
    monkeypatch: pytest.MonkeyPatch, match: Callable[[Path, Path], bool], action: Callable[[], None]
) -> list[str]:
    """Run ``action`` once, right before the first os.link(src, dst) that ``match`` selects."""
    real = os.link
    fired: list[str] = []

    def link(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if not fired and match(Path(src), Path(dst)):
            fired.append(f"{src} -> {dst}")
            action()
        real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "link", link)
    return fired


def test_consumer_runs_between_a_duplicates_check_and_its_link(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The late copy passed its "already here?" check while new/ and taken were empty;
    the first copy is delivered and consumed before the late copy links into new/."""
    late, first, consumer = _inbox(home), _inbox(home), _inbox(home)
    msg = message("restart api", ts="1700000000.000100")
    outcomes: dict[str, bool] = {}

    def deliver_and_consume() -> None:
        outcomes["first"] = first.deliver(msg)
        consumer.mark_consumed(msg.ts)

    fired = _hook_link(
        monkeypatch,
        lambda src, dst: src.parent == late.new and src.name.startswith("."),
        deliver_and_consume,
    )
    outcomes["late"] = late.deliver(msg)
    assert fired
    assert outcomes == {"first": True, "late": False}
    assert os.listdir(late.new) == []
    assert late.taken() == [msg.ts]
    assert not _staged(late)
    assert late.pending() == []


def test_duplicate_arrives_while_the_consumer_is_mid_move(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The consumer has recorded it taken but not yet unlinked new/ when the duplicate comes."""
    inbox, late = _inbox(home), _inbox(home)
    msg = message("restart api", ts="1700000000.000100")
    assert inbox.deliver(msg) is True
    outcomes: dict[str, bool] = {}

    def duplicate() -> None:
        outcomes["late"] = late.deliver(msg)

    real_unlink = Path.unlink
    fired: list[bool] = []

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if not fired and self == inbox.new / msg.ts:
            fired.append(True)
            # Recorded taken already (the consumer records before it unlinks).
            assert inbox.taken_log.has(msg.ts)
            duplicate()
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    inbox.mark_consumed(msg.ts)
    assert fired
    assert outcomes == {"late": False}
    assert os.listdir(inbox.new) == []
    assert inbox.taken() == [msg.ts]


def test_consumer_links_between_a_duplicates_check_and_its_link(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The duplicate passed its check before the first copy arrived; the first copy is
    delivered and recorded taken (not yet unlinked from new/) when the duplicate links."""
    late, first = _inbox(home), _inbox(home)
    msg = message("restart api", ts="1700000000.000100")
    outcomes: dict[str, bool] = {}

    def deliver_and_half_consume() -> None:
        outcomes["first"] = first.deliver(msg)
        first.taken_log.add(msg.ts)

    fired = _hook_link(
        monkeypatch,
        lambda src, dst: src.parent == late.new and src.name.startswith("."),
        deliver_and_half_consume,
    )
    outcomes["late"] = late.deliver(msg)
    assert fired
    first.mark_consumed(msg.ts)  # the consumer finishes its move
    assert outcomes == {"first": True, "late": False}
    assert os.listdir(late.new) == []
    assert late.taken() == [msg.ts]
    assert late.pending() == []


def test_clean_staging_drops_unacked_leftovers(home: Home) -> None:
    inbox = _inbox(home)
    msg = message("kept", ts="1700000000.000100")
    inbox.deliver(msg)
    assert os.listdir(inbox.new) == [msg.ts]  # its staged copy is gone
    (inbox.new / ".1700000001.000000.deadbeef").write_text("crashed before link")
    assert inbox.pending() == [msg]  # a staged copy is never read as a message
    assert inbox.clean_staging(older_than=60) == 0  # it may still be being written
    assert inbox.clean_staging() == 1
    assert os.listdir(inbox.new) == [msg.ts]
    assert inbox.pending() == [msg]
    ThreadDir(home, OTHER).inbox.clean_staging()  # no inbox yet: nothing to do, no error


def test_a_staged_copy_of_a_message_stored_since_goes_at_once(home: Home) -> None:
    """A crash between staging a message and linking it leaves the staged copy; Slack's
    redelivery then stores the message, and the thread's worker (which may never run
    again) must not wait a minute before it may drop the leftover."""
    inbox = _inbox(home)
    waiting, taken = (
        message("waits", ts="1700000000.000100"),
        message("taken", ts="1700000000.000200"),
    )
    inbox.ensure()
    for m in (waiting, taken):
        (inbox.new / f".{m.ts}.deadbeef").write_text("crashed before link")
        inbox.deliver(m)
    inbox.mark_consumed(taken.ts)
    (inbox.new / ".1700000000.000300.deadbeef").write_text("may still be being written")
    assert inbox.clean_staging(older_than=60) == 2
    assert sorted(os.listdir(inbox.new)) == [".1700000000.000300.deadbeef", waiting.ts]
    assert inbox.pending() == [waiting]


def test_a_copy_whose_staged_file_a_worker_dropped_meanwhile_is_a_duplicate(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process stores the message and its worker drops our staged copy (it is a
    copy of a message stored since) between our write and our link: a duplicate, not an
    error (``signoff say`` in two replicas at once exited 2)."""
    late, first = _inbox(home), _inbox(home)
    msg = message("restart api", ts="1700000000.000100")

    def deliver_and_clean() -> None:
        assert first.deliver(msg)
        assert first.clean_staging(older_than=60) == 1

    fired = _hook_link(
        monkeypatch,
        lambda src, dst: src.parent == late.new and src.name.startswith("."),
        deliver_and_clean,
    )
    assert late.deliver(msg) is False
    assert fired
    assert os.listdir(late.new) == [msg.ts]


def test_a_home_from_before_has_its_tmp_emptied_and_removed(home: Home) -> None:
    """Homes written before staged messages in ``inbox/tmp/``: what a crash left there
    was never acked, and the directory goes once it is empty."""
    inbox = _inbox(home)
    inbox.deliver(message("kept", ts="1700000000.000100"))
    inbox.legacy_tmp.mkdir()
    (inbox.legacy_tmp / "1700000001.000000.deadbeef").write_text("crashed before link")
    assert inbox.clean_staging() == 1
    assert not inbox.legacy_tmp.exists()
    assert [m.text for m in inbox.pending()] == ["kept"]


# index ----------------------------------------------------------------------------------
def _session(home: Home, clock: FixedClock, thread: ThreadKey = THREAD, **kw: Any) -> SessionRecord:
    return SessionStore(home, clock=clock).create(
        thread=thread,
        parent_id=kw.get("parent_id"),
        cause=kw.get("cause", "message"),
        session_md="#\n",
    )


def _row(n: int, **changes: Any) -> ApprovalRow:
    base = ApprovalRow(
        id=f"appr_{n:016x}",
        session_id="sess_0123456789ab",
        thread=THREAD,
        tool="restart_service",
        args_sha256="ab" * 32,
        requester="U0ALICE",
        status="pending",
        created_at=f"2026-11-02T09:0{n}:00.000Z",
        expires_at=f"2026-11-03T09:0{n}:00.000Z",
    )
    return dataclasses.replace(base, **changes)


async def test_index_sessions_round_trip(home: Home, clock: FixedClock) -> None:
    store = SessionStore(home, clock=clock)
    a = _session(home, clock)
    clock.advance(timedelta(minutes=1))
    b = _session(home, clock, parent_id=a.id)
    clock.advance(timedelta(minutes=1))
    c = _session(home, clock, thread=OTHER)
    b = store.transition(b.id, expected=S.CREATED, new=S.RUNNING)
    clock.advance(timedelta(minutes=1))
    b = store.transition(b.id, expected=S.RUNNING, new=S.COMPLETED, reason="done")
    index = await Index.open(home.index_path)
    try:
        await index.put_session(a)
        await index.put_sessions([b, c])
        rows = await index.sessions()
        assert [r.id for r in rows] == [b.id, c.id, a.id]  # newest update first
        row_b = rows[0]
        assert row_b.parent_id == a.id
        assert row_b.thread == THREAD
        assert row_b.state == "completed"
        assert row_b.reason == "done"
        assert row_b.cause == "message"
        assert row_b.created_at == b.created_at
        assert row_b.updated_at == b.transitions[-1].at
        assert [r.id for r in await index.sessions(states=["created"])] == [c.id, a.id]
        assert [r.id for r in await index.sessions(thread=OTHER)] == [c.id]
        assert [r.id for r in await index.sessions(states=["completed", "running"])] == [b.id]
        assert len(await index.sessions(limit=1)) == 1
        # A later put replaces the row.
        a2 = store.transition(a.id, expected=S.CREATED, new=S.CANCELLED)
        await index.put_session(a2)
        assert [r.state for r in await index.sessions(thread=THREAD) if r.id == a.id] == [
            "cancelled"
        ]
        assert (await index.counts())["sessions"] == 3
    finally:
        await index.close()


async def test_index_puts_from_many_turns_share_commits(
    home: Home, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst of turns' puts is committed in a few transactions, not one each, and the
    last put of a row still wins."""
    store = SessionStore(home, clock=clock)
    records = [_session(home, clock) for _ in range(30)]
    index = await Index.open(home.index_path)
    commits: list[int] = []
    real_commit = index._conn.commit

    async def counting_commit() -> None:
        commits.append(1)
        await real_commit()

    monkeypatch.setattr(index._conn, "commit", counting_commit)
    try:
        started = [store.transition(r.id, expected=S.CREATED, new=S.RUNNING) for r in records]
        await asyncio.gather(
            *(index.put_session(r) for r in records),
            *(index.put_thread(r.thread, r.id, r.created_at) for r in records),
            *(index.put_session(r) for r in started),
        )
        assert len(commits) <= 3  # 90 puts
        assert {r.state for r in await index.sessions()} == {"running"}
        assert (await index.counts())["sessions"] == 30
    finally:
        await index.close()


async def test_a_failed_batch_fails_every_put_in_it(home: Home, clock: FixedClock) -> None:
    index = await Index.open(home.index_path)
    try:
        await index._conn.execute("DROP TABLE threads")
        with pytest.raises(sqlite3.OperationalError):
            await asyncio.gather(
                index.put_session(_session(home, clock)),
                index.put_thread(THREAD, None, "2026-11-02T09:00:00.000Z"),
            )
        assert await index.sessions() == []  # rolled back with the rest
    finally:
        await index.close()


async def test_index_threads(home: Home) -> None:
    index = await Index.open(home.index_path)
    try:
        assert await index.thread_head(THREAD) is None
        await index.put_thread(THREAD, "sess_0123456789ab", "2026-11-02T09:00:00.000Z")
        await index.put_thread(OTHER, None, "2026-11-02T09:00:00.000Z")
        assert await index.thread_head(THREAD) == "sess_0123456789ab"
        assert await index.thread_head(OTHER) is None
        await index.put_thread(THREAD, "sess_ba9876543210", "2026-11-02T09:01:00.000Z")
        assert await index.thread_head(THREAD) == "sess_ba9876543210"
        assert (await index.counts())["threads"] == 2
    finally:
        await index.close()


async def test_index_approvals_and_filters(home: Home) -> None:
    pending = _row(1, approvers="U0BOB S0OPS")
    decided_untold = _row(
        2, status="approved", decided_by="U0BOB", decided_at="2026-11-02T10:00:00.000Z"
    )
    decided_told = _row(3, status="denied", decided_by="U0BOB", told_in="sess_ba9876543210")
    other_session = _row(4, session_id="sess_ffffffffffff", card_channel="C0OPS", card_ts="1.2")
    index = await Index.open(home.index_path)
    try:
        await index.put_approvals([pending, decided_untold, decided_told, other_session])
        assert await index.approval(pending.id) == pending
        assert await index.approval(other_session.id) == other_session
        assert await index.approval("appr_ffffffffffffffff") is None
        assert await index.approvals() == [pending, decided_untold, decided_told, other_session]
        assert await index.approvals(status="pending") == [pending, other_session]
        assert await index.approvals(session_id="sess_ffffffffffff") == [other_session]
        # due_before is inclusive, on the ISO text.
        assert await index.approvals(due_before=pending.expires_at) == [pending]
        assert await index.approvals(due_before="2026-11-03T09:02:59.999Z") == [
            pending,
            decided_untold,
        ]
        assert await index.approvals(due_before="2026-11-02T00:00:00.000Z") == []
        assert await index.approvals(status="pending", due_before="2026-11-03T09:09:00.000Z") == [
            pending,
            other_session,
        ]
        assert await index.approvals(untold=True) == [decided_untold]
        assert await index.approvals(status="pending", card_missing=True) == [pending]
        assert await index.approvals(limit=2) == [pending, decided_untold]
        # Replace: the pending one is now decided and told.
        done = dataclasses.replace(pending, status="expired", told_in="sess_ba9876543210")
        await index.put_approvals([done])
        assert await index.approval(pending.id) == done
        assert await index.approvals(status="pending") == [other_session]
        assert (await index.counts())["approvals"] == 4
    finally:
        await index.close()


async def test_index_survives_reopen(home: Home, clock: FixedClock) -> None:
    record = _session(home, clock)
    index = await Index.open(home.index_path)
    await index.put_session(record)
    await index.close()
    index = await Index.open(home.index_path)
    try:
        assert [r.id for r in await index.sessions()] == [record.id]
    finally:
        await index.close()


# reindex --------------------------------------------------------------------------------
async def _populate(home: Home, clock: FixedClock, index: Index) -> dict[str, Any]:
    """Build a small home the way the engine does: files first, then index rows."""
    store = SessionStore(home, clock=clock)
    tdir = ThreadDir(home, THREAD)
    tdir.ensure()
    odir = ThreadDir(home, OTHER)
    odir.ensure()

    m1 = message("restart api", ts="1700000000.000100")
    m2 = message("and the worker", ts="1700000000.000200")
    m3 = message("status?", ts="1700000099.000200", thread=OTHER)
    for inbox, msg in ((tdir.inbox, m1), (tdir.inbox, m2), (odir.inbox, m3)):
        assert inbox.deliver(msg)
    tdir.inbox.mark_consumed(m1.ts)

    parent = _session(home, clock)
    store.transition(parent.id, expected=S.CREATED, new=S.RUNNING)
    rule = PolicyRule(approver_users=("U0BOB",), approver_groups=("S0OPS",))
    capsules = []
    for n, service in enumerate(("api", "worker")):
        cap = build_capsule(
            session_id=parent.id,
            thread=THREAD,
            call_id=f"call_{n}",
            tool="restart_service",
            tool_version="1",
            arguments={"service": service},
            requester="U0ALICE",
            reason="it is stuck",
            policy=rule,
            now=clock.now(),
        )
        ApprovalRequest.create(home, cap, clock=clock)
        capsules.append(cap)
    parent = store.transition(parent.id, expected=S.RUNNING, new=S.AWAITING_APPROVAL)
    clock.advance(timedelta(minutes=3))
    child = _session(home, clock, parent_id=parent.id, cause="decision")
    first = ApprovalRequest(home, capsules[0], clock=clock)
    decision = Decision(
        approval_id=first.id,
        verdict="approved",
        deciders=("U0BOB",),
        at=utc_iso(clock.now()),
        args_sha256=first.capsule.args_sha256,
    )
    assert first.write_decision(decision) is None
    first.record_card(channel="C0OPS", ts="1700000000.000300")
    first.mark_told(session_id=child.id, at=utc_iso(clock.now()))
    tdir.set_head(child.id)
    other = _session(home, clock, thread=OTHER)
    other = store.transition(other.id, expected=S.CREATED, new=S.FAILED, reason="model down")
    odir.set_head(other.id)

    for record in (parent, child, other):
        await index.put_session(record)
    for thread, head in ((THREAD, child.id), (OTHER, other.id)):
        await index.put_thread(thread, head, utc_iso(clock.now()))
    await index.put_approvals([ApprovalRequest(home, cap).row() for cap in capsules])
    return {
        "sessions": [parent, child, other],
        "capsules": capsules,
        "heads": {THREAD: child.id, OTHER: other.id},
    }


async def _snapshot(index: Index) -> dict[str, Any]:
    return {
        "sessions": await index.sessions(limit=1000),
        "approvals": await index.approvals(limit=1000),
        "heads": {t: await index.thread_head(t) for t in (THREAD, OTHER)},
    }


# 2: the sessions are read by worker processes (sessions/reindex_scan.py), a chunk each.
IN_WORKERS = pytest.mark.parametrize("processes", [1, 2], ids=["inline", "workers"])


@IN_WORKERS
async def test_reindex_rebuilds_what_the_index_had(
    home: Home, clock: FixedClock, processes: int
) -> None:
    index = await Index.open(home.index_path)
    try:
        made = await _populate(home, clock, index)
        before = await _snapshot(index)
        before_counts = await index.counts()
    finally:
        await index.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{home.index_path}{suffix}").unlink(missing_ok=True)

    counts = await reindex(
        home, scan_approvals=approvals.scan_session_approvals, processes=processes
    )
    assert counts == {**before_counts, "unreadable_sessions": 0, "sealed_after_crash": 0}
    assert counts["sessions"] == 3 and counts["approvals"] == 2 and counts["threads"] == 2
    assert not Path(f"{home.root / 'index.sqlite3.rebuild'}").exists()

    index = await Index.open(home.index_path)
    try:
        after = await _snapshot(index)
        assert after == before
        assert after["heads"] == made["heads"]
        first, second = made["capsules"]
        row = await index.approval(first.id)
        assert row is not None
        assert (row.status, row.decided_by, row.card_ts, row.approvers) == (
            "approved",
            "U0BOB",
            "1700000000.000300",
            "U0BOB S0OPS",
        )
        assert row.told_in == made["sessions"][1].id
        assert row.args_sha256 == first.args_sha256
        pending = await index.approval(second.id)
        assert pending is not None and pending.status == "pending" and pending.told_in is None
    finally:
        await index.close()


async def test_reindex_replaces_stale_rows(home: Home, clock: FixedClock) -> None:
    record = _session(home, clock)
    index = await Index.open(home.index_path)
    try:
        ghost = _session(home, clock)
        await index.put_sessions([record, ghost])
        await index.put_approvals([_row(1)])
    finally:
        await index.close()

    shutil.rmtree(home.session_dir(ghost.id))
    counts = await reindex(home, scan_approvals=approvals.scan_session_approvals)
    assert counts["sessions"] == 1 and counts["approvals"] == 0
    index = await Index.open(home.index_path)
    try:
        assert [r.id for r in await index.sessions()] == [record.id]
        assert await index.approvals() == []
    finally:
        await index.close()


@IN_WORKERS
async def test_reindex_skips_and_counts_unreadable_sessions(
    home: Home, clock: FixedClock, processes: int
) -> None:
    good = _session(home, clock)
    corrupt = _session(home, clock)
    (home.session_dir(corrupt.id) / "session.json").write_text("{torn")
    empty = _session(home, clock)
    (home.session_dir(empty.id) / "session.json").unlink()
    counts = await reindex(
        home, scan_approvals=approvals.scan_session_approvals, processes=processes
    )
    assert counts["unreadable_sessions"] == 2
    assert counts["sessions"] == 1
    index = await Index.open(home.index_path)
    try:
        assert [r.id for r in await index.sessions()] == [good.id]
    finally:
        await index.close()


@IN_WORKERS
async def test_reindex_counts_a_capsule_filed_under_another_session(
    home: Home, clock: FixedClock, processes: int
) -> None:
    """A capsule whose own ids are not where it lies (copied by hand into another
    session) is one bad capsule: it must not stop the rebuild (a bot whose index is
    missing could not start)."""
    index = await Index.open(home.index_path)
    try:
        made = await _populate(home, clock, index)
    finally:
        await index.close()
    home.index_path.unlink()
    first = made["capsules"][0]
    stray = _session(home, clock, thread=OTHER)
    (home.session_dir(stray.id) / "approvals").mkdir()
    name = f"{first.id}.json"
    source = home.session_dir(first.session_id) / "approvals" / name
    shutil.copy(source, home.session_dir(stray.id) / "approvals" / name)
    counts = await reindex(
        home, scan_approvals=approvals.scan_session_approvals, processes=processes
    )
    assert (counts["sessions"], counts["approvals"], counts["unreadable_sessions"]) == (4, 2, 1)
    index = await Index.open(home.index_path)
    try:
        row = await index.approval(first.id)
        assert row is not None and row.session_id == first.session_id
    finally:
        await index.close()


@IN_WORKERS
async def test_reindex_seals_a_session_that_ended_but_a_crash_left_unsealed(
    home: Home, clock: FixedClock, processes: int
) -> None:
    store = SessionStore(home, clock=clock)
    ended = _session(home, clock)
    store.transition(ended.id, expected=S.CREATED, new=S.CANCELLED, reason="x")
    (home.session_dir(ended.id) / "MANIFEST.sha256").unlink()  # a crash before the seal
    running = _session(home, clock)
    store.transition(running.id, expected=S.CREATED, new=S.RUNNING)
    counts = await reindex(
        home, scan_approvals=approvals.scan_session_approvals, processes=processes
    )
    assert counts["sealed_after_crash"] == 1
    assert verify(home.session_dir(ended.id)).sealed and verify(home.session_dir(ended.id)).ok
    # Still running: recovery closes it as crashed, and seals it then.
    assert not verify(home.session_dir(running.id)).sealed
    assert (await reindex(home))["sealed_after_crash"] == 0


async def test_reindex_without_an_approval_scanner(home: Home, clock: FixedClock) -> None:
    index = await Index.open(home.index_path)
    try:
        await _populate(home, clock, index)
    finally:
        await index.close()
    counts = await reindex(home)
    assert counts["sessions"] == 3
    assert counts["approvals"] == 0
    assert counts["threads"] == 2


async def test_the_scan_reads_only_records_that_exist_and_rows_match(
    home: Home, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reindex lists a session's approvals directory once: a pending approval's absent
    decision, told and escalation are not looked for, one failed open each (issue 14:
    reindex of 100k sessions); the rows are what each request says of itself."""
    index = await Index.open(home.index_path)
    try:
        made = await _populate(home, clock, index)
    finally:
        await index.close()
    second = ApprovalRequest(home, made["capsules"][1], clock=clock)
    second.write_escalation(
        approvals.Escalation(
            approval_id=second.id,
            due_at=utc_iso(clock.now()),
            at=utc_iso(clock.now()),
            added_users=("U0CAROL",),
            added_groups=(),
        )
    )
    parent = made["sessions"][0]
    expected = [ApprovalRequest.open(home, c.id).row() for c in made["capsules"]]
    escalated = expected[1]
    missing: list[str] = []
    real = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        try:
            return real(path)
        except FileNotFoundError:
            missing.append(path.name)
            raise

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    rows = list(approvals.scan_session_approvals(home, home.session_dir(parent.id), parent))
    assert rows == sorted(expected, key=lambda row: row.id)
    assert escalated.approvers == "U0BOB S0OPS U0CAROL" and escalated.status == "pending"
    assert missing == []
