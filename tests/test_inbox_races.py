"""Readers of a thread's inbox racing its worker, which takes messages out of ``new/``.

Any process may look at what waits (``agent_status`` when delivery renders a thread's
status line, the sweep); the thread's worker meanwhile records messages in a session and
unlinks them. A message that went between the listing and the read was taken: it no
longer waits, and the look must not fail.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from engine_support import THREAD, message

from sessions import Home, ThreadDir, atomic


def test_a_message_taken_while_pending_lists_the_inbox_no_longer_waits(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker, reader = ThreadDir(home, THREAD), ThreadDir(home, THREAD)
    worker.ensure()
    first = message("restart api", ts="1700000000.000100")
    second = message("and web", ts="1700000000.000200")
    assert worker.inbox.deliver(first) and worker.inbox.deliver(second)
    real_listdir = os.listdir

    def listdir(path: Any = ".") -> list[str]:
        names = real_listdir(path)
        if Path(path) == reader.inbox.new:
            # The worker takes the first message just after the reader listed new/.
            taking = threading.Thread(target=worker.inbox.mark_consumed, args=(first.ts,))
            taking.start()
            taking.join(10)
        return names

    monkeypatch.setattr(os, "listdir", listdir)
    assert [m.ts for m in reader.inbox.pending()] == [second.ts]


def test_a_link_whose_directory_sync_failed_is_taken_back_so_a_redelivery_stores_it(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The link into ``new/`` made, its directory's fsync fails (EIO): the entry may not
    survive a power cut, so the copy is not stored. Left linked, a twin or Slack's
    redelivery found ``new/<ts>`` and was acked as a duplicate of a message nothing made
    durable; taken back, it is stored by the next copy, whose sync succeeds."""
    tdir = ThreadDir(home, THREAD)
    tdir.ensure()
    mention = message("restart api", ts="1700000000.000100")
    failures = [OSError(5, "Input/output error")]

    def fsync_dir(path: Path) -> None:
        if failures and Path(path) == tdir.inbox.new:
            raise failures.pop()
        atomic.fsync_dir(path)

    monkeypatch.setattr("sessions.inbox.fsync_dir", fsync_dir)
    with pytest.raises(OSError):
        tdir.inbox.deliver(mention)
    assert not tdir.inbox.waiting(mention.ts)
    assert tdir.inbox.deliver(mention) is True  # stored now, not a duplicate
    assert [m.ts for m in tdir.inbox.pending()] == [mention.ts]
    assert not [n for n in os.listdir(tdir.inbox.new) if n.startswith(".")]


def test_while_one_message_waits_for_the_disk_every_other_message_goes_on_to_its_own_fsync(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Copies of one message take turns; different messages must not. The turns were a
    fixed pool of 256 locks picked by a hash of the path, so two of a thread's messages
    shared one now and then (about one run in a hundred for three messages): the second
    waited behind the first's fsync, its ack held as long as that disk write. More
    messages than any such pool has locks, each fsync held: every one must reach its own."""
    tdir = ThreadDir(home, THREAD)
    tdir.ensure()
    messages = [message(f"m{n}", ts=f"1700000001.{n:06d}") for n in range(300)]
    entered = [0]
    lock, hold = threading.Lock(), threading.Event()

    def fsync_file(fd: int) -> None:  # a disk that holds every write until told
        with lock:
            entered[0] += 1
        hold.wait(30)

    monkeypatch.setattr("sessions.inbox.fsync_file", fsync_file)
    storing = [threading.Thread(target=tdir.inbox.deliver, args=(m,)) for m in messages]
    for thread in storing:
        thread.start()
    try:
        deadline = time.monotonic() + 20
        while entered[0] < len(messages) and time.monotonic() < deadline:
            time.sleep(0.01)  # polling a condition set by the writers, bounded
        reached = entered[0]
    finally:
        hold.set()
        for thread in storing:
            thread.join(30)
    assert reached == len(messages)
    assert [m.ts for m in tdir.inbox.pending()] == [m.ts for m in messages]
