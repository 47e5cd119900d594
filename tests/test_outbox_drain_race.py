"""The drainer's memory of entries it found not done, raced by its own ``complete``.

Delivery completes a lane's entries on a worker thread (``off_loop``) while the event loop
may run another pass; an id queued again meanwhile (``queue_post`` after a crash, a
crashed session's replies queued again: "a no-op, and one that was sent never repeats")
must be found done by the next pass, not sent a second time.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from sessions import DirectoryCoordination, Home, OutboxEntry, ThreadKey
from sessions.outbox import OutboxDone

THREAD = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1700000000.000100")


def test_an_entry_completed_during_a_pass_is_looked_up_again_when_it_is_queued_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Home(tmp_path / "home")
    home.ensure()
    outbox = DirectoryCoordination(home).outbox
    entry = OutboxEntry(
        id="reply-x", kind="reply", thread=THREAD, created_at="2026-12-04T00:00:00Z", seq=1
    )
    assert outbox.enqueue(entry)
    lock = outbox.claim_drainer()
    assert lock is not None
    assert [e.id for e in outbox.pending()] == ["reply-x"]  # sent by its lane

    # The lane records it on a worker thread; a pass runs on the loop just before the
    # record reaches the thread's log.
    log_path = home.thread_dir(THREAD) / "outbox.jsonl"
    appending, passed = threading.Event(), threading.Event()
    real_open = os.open

    def open_hook(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if Path(path) == log_path and flags & os.O_APPEND and not appending.is_set():
            appending.set()
            assert passed.wait(10)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_hook)
    record = OutboxDone(id=entry.id, entry=entry, at="2026-12-04T00:00:01Z", outcome="sent")
    completing = threading.Thread(target=outbox.complete, args=([record],))
    completing.start()
    assert appending.wait(10)
    assert [e.id for e in outbox.pending()] == ["reply-x"]  # its lane is busy
    passed.set()
    completing.join(10)
    monkeypatch.setattr(os, "open", real_open)
    assert outbox.done(THREAD, entry.id) is not None

    # Queued again by a process that looked before the record was written: its pending
    # file is back beside the done record.
    (outbox.pending_dir / "reply-x.json").write_bytes(entry.model_dump_json().encode())
    assert outbox.pending() == []  # done: not sent twice
    assert not (outbox.pending_dir / "reply-x.json").exists()
    lock.release()
