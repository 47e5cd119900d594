"""Done records of one thread share one append-only file (issue 14: inodes per session).

A sent reply used to leave ``outbox/done/<shard>/<id>.json``: one inode per Slack write,
forever. Now it is one line of ``threads/<team>/<channel>/<ts>/outbox.jsonl``, appended
and fsynced before the pending entry goes, read back by every process.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sessions import Home, Outbox, OutboxDone, OutboxEntry, ThreadKey

T1 = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1700000000.000100")
T2 = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1700000000.000200")


def _home(tmp_path: Path) -> Home:
    home = Home(tmp_path / "home")
    home.ensure()
    return home


def entry(entry_id: str, seq: int = 1, thread: ThreadKey = T1, text: str = "") -> OutboxEntry:
    return OutboxEntry(
        id=entry_id,
        kind="reply",
        thread=thread,
        created_at="2026-12-02T00:00:00Z",
        seq=seq,
        text=text,
    )


def done(e: OutboxEntry, outcome: str = "sent", ts: str = "1.1") -> OutboxDone:
    return OutboxDone.model_validate(
        {"id": e.id, "entry": e, "at": "2026-12-02T00:00:01Z", "outcome": outcome, "ts": ts}
    )


def _files(root: Path) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(here, name), root)
        for here, _, names in os.walk(root)
        for name in names
    )


def _log(home: Home, thread: ThreadKey) -> Path:
    return home.thread_dir(thread) / "outbox.jsonl"


def test_a_threads_done_records_share_one_file_whatever_their_number(tmp_path: Path) -> None:
    home = _home(tmp_path)
    outbox = Outbox(home)
    entries = [entry(f"reply-sess_{i:012x}-m1", seq=i) for i in range(40)]
    for e in entries:
        assert outbox.enqueue(e)
    outbox.complete([done(e) for e in entries[:25]])
    outbox.complete([done(e) for e in entries[25:]])
    assert outbox.pending() == []
    sent = [f for f in _files(home.root) if "outbox" in f and f != "outbox/drain.lock"]
    assert sent == [os.path.relpath(_log(home, T1), home.root)]
    assert len(_log(home, T1).read_bytes().splitlines()) == 40
    again = Outbox(home)  # another process
    for e in entries:
        assert again.enqueue(e) is False and again.queued(T1, e.id)
        record = again.done(T1, e.id)
        assert record is not None and record.entry == e


def test_each_thread_keeps_its_own_records(tmp_path: Path) -> None:
    home = _home(tmp_path)
    outbox = Outbox(home)
    a, b = entry("reply-a", thread=T1), entry("reply-b", thread=T2)
    outbox.enqueue(a)
    outbox.enqueue(b)
    outbox.complete([done(a), done(b)])
    assert outbox.done(T1, "reply-a") is not None and outbox.done(T1, "reply-b") is None
    assert outbox.done(T2, "reply-b") is not None and outbox.done(T2, "reply-a") is None


def test_the_first_record_stands_and_is_written_once(tmp_path: Path) -> None:
    home = _home(tmp_path)
    first, second = Outbox(home), Outbox(home)
    e = entry("card-appr_00000000000000aa-decided")
    first.enqueue(e)
    first.complete([done(e, ts="1.1")])
    second.complete([done(e, outcome="failed", ts="")])  # a second drainer, later
    first.complete([done(e, ts="9.9"), done(e, ts="9.9")])
    assert len(_log(home, T1).read_bytes().splitlines()) == 1
    for reader in (first, second, Outbox(home)):
        record = reader.done(T1, e.id)
        assert record is not None and (record.outcome, record.ts) == ("sent", "1.1")


def test_a_torn_last_record_reads_as_not_done_and_the_next_append_is_whole(
    tmp_path: Path,
) -> None:
    """A crash mid-append: the entry is still pending, so it is sent again (or adopted)."""
    home = _home(tmp_path)
    outbox = Outbox(home)
    kept, torn, later = entry("reply-a", 1), entry("reply-b", 2), entry("reply-c", 3)
    for e in (kept, torn, later):
        outbox.enqueue(e)
    outbox.complete([done(kept)])
    with _log(home, T1).open("ab") as log:
        log.write(done(torn).model_dump_json().encode()[:50])  # no newline: torn
    reader = Outbox(home)
    assert reader.done(T1, "reply-b") is None
    assert [e.id for e in reader.pending()] == ["reply-b", "reply-c"]
    reader.complete([done(torn), done(later)])
    for fresh in (reader, Outbox(home)):
        assert [fresh.done(T1, e.id) is not None for e in (kept, torn, later)] == [True] * 3
        assert fresh.pending() == []


def test_a_crash_between_the_record_and_the_unlink_leaves_it_done(tmp_path: Path) -> None:
    home = _home(tmp_path)
    outbox = Outbox(home)
    e = entry("reply-a")
    outbox.enqueue(e)
    outbox.complete([done(e)])
    pending = home.root / "outbox" / "pending" / "reply-a.json"
    pending.write_bytes(e.model_dump_json().encode())  # as if the unlink never happened
    assert Outbox(home).pending() == []
    assert not pending.exists()


def test_an_unreadable_pending_entry_is_set_aside_and_the_rest_still_goes_out(
    tmp_path: Path,
) -> None:
    """One entry that does not parse (written by a newer signoff before a downgrade, or
    edited by hand) held up every thread's delivery: each pass raised on it."""
    home = _home(tmp_path)
    outbox = Outbox(home)
    a, b = entry("reply-a", 1), entry("reply-b", 3)
    outbox.enqueue(a)
    bad = home.root / "outbox" / "pending" / "reply-bad.json"
    bad.write_bytes(b'{"id": "reply-bad", "kind": "telepathy"}')
    outbox.enqueue(b)
    # A reader (a terminal echoing what it queued, maybe of another version) only looks.
    assert [e.id for e in Outbox(home).pending()] == ["reply-a", "reply-b"]
    assert bad.exists()
    claim = outbox.claim_drainer()  # the sender sets it aside
    assert claim is not None
    try:
        assert [e.id for e in outbox.pending()] == ["reply-a", "reply-b"]
    finally:
        claim.release()
    assert not bad.exists()
    kept = home.root / "outbox" / "unreadable" / "reply-bad.json"
    assert kept.read_bytes() == b'{"id": "reply-bad", "kind": "telepathy"}'
    assert outbox.depth() == 2


def test_an_entry_that_cannot_be_read_now_stops_no_other_and_stays(tmp_path: Path) -> None:
    """A symlink loop (ELOOP), or an entry another user owns (EACCES), raised out of the
    whole pass: every thread's delivery stopped, each second, until a person came."""
    home = _home(tmp_path)
    outbox = Outbox(home)
    outbox.enqueue(entry("reply-a", 1))
    loop = home.root / "outbox" / "pending" / "reply-loop.json"
    loop.symlink_to(loop.name)  # itself
    claim = outbox.claim_drainer()
    assert claim is not None
    try:
        assert [e.id for e in outbox.pending()] == ["reply-a"]
        assert [e.id for e in outbox.pending()] == ["reply-a"]
    finally:
        claim.release()
    assert loop.is_symlink()  # tried again later: a passing error is no reason to drop it


def test_a_home_written_before_keeps_its_done_files(tmp_path: Path) -> None:
    """Homes from before the thread logs: ``outbox/done/<shard>/<id>.json`` still count."""
    home = _home(tmp_path)
    e = entry("reply-old")
    shard = hashlib.sha256(e.id.encode()).hexdigest()[:2]
    old = home.root / "outbox" / "done" / shard / f"{e.id}.json"
    old.parent.mkdir(parents=True)
    old.write_bytes(done(e, ts="5.5").model_dump_json().encode())
    outbox = Outbox(home)
    assert outbox.enqueue(e) is False and outbox.queued(T1, e.id)
    record = outbox.done(T1, e.id)
    assert record is not None and record.ts == "5.5"


def test_a_reader_sees_records_appended_after_it_first_looked(tmp_path: Path) -> None:
    home = _home(tmp_path)
    reader, drainer = Outbox(home), Outbox(home)
    a, b = entry("reply-a", 1), entry("reply-b", 2)
    drainer.enqueue(a)
    drainer.enqueue(b)
    assert reader.done(T1, "reply-a") is None
    drainer.complete([done(a)])
    assert reader.done(T1, "reply-a") is not None and reader.done(T1, "reply-b") is None
    drainer.complete([done(b)])
    assert reader.done(T1, "reply-b") is not None
