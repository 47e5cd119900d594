"""A message the full disk cannot store leaves nothing behind in its inbox.

Its staged copy was removed only once it was linked: a write or sync that failed (ENOSPC)
left ``new/.<ts>.<hex>`` there, one more for each redelivery Slack made while the disk
stayed full (each an inode, on a disk that may have run out of them), until a worker's
clean-up a minute later. Now a staged copy that could not be written is removed at once.

A real ENOSPC: a small tmpfs, filled by a file.
"""

from __future__ import annotations

import errno

import pytest
from engine_support import THREAD, message
from test_cli_full_disk import _write_until_full
from test_cli_read_only_home import Mount
from test_cli_read_only_home import mount as mount  # the fixture, used below

from sessions import Home, ThreadDir


def test_a_message_the_full_disk_cannot_store_leaves_no_staged_copy(mount: Mount) -> None:
    home = Home(mount.where / "home")
    home.ensure()
    inbox = ThreadDir(home, THREAD).inbox
    assert inbox.deliver(message("first", ts="1700000000.000100"))
    for size in (65536, 4096, 1):
        with pytest.raises(OSError):
            _write_until_full(mount.where / "filler", size)
    # A message bigger than what is left of the last page: its write fails, as Slack's
    # redeliveries would, three times.
    for _ in range(3):
        with pytest.raises(OSError) as failed:
            inbox.deliver(message("x" * 20_000, ts="1700000000.000200"))
        assert failed.value.errno == errno.ENOSPC
    assert sorted(p.name for p in inbox.new.iterdir()) == ["1700000000.000100"]

    (mount.where / "filler").unlink()
    assert inbox.deliver(message("x" * 20_000, ts="1700000000.000200"))
    assert [m.ts for m in inbox.pending()] == ["1700000000.000100", "1700000000.000200"]
