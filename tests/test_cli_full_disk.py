"""The terminal commands on a home whose disk is full.

The read-only commands read it: ``pending`` and ``sessions`` failed with "the index could
not be used: disk I/O error" (opening the index the usual way writes its ``-shm`` file),
just when an operator looks at what waits. The commands that write say the disk is full
in one line, exit 2: they said the index could not be used and advised `signoff reindex`,
which a full disk fails too. Once there is room, everything works again.

A real ENOSPC: a small tmpfs of its own, filled by a file, as a volume fills.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest
from test_cli_errors import one_error_line, signoff
from test_cli_read_only_home import Mount, _a_home, reads_the_home
from test_cli_read_only_home import mount as mount  # the fixture, used by ``full``


def _write_until_full(path: Path, size: int) -> None:
    with path.open("ab") as out:
        while True:
            out.write(b"\0" * size)
            out.flush()


@pytest.fixture
def full(mount: Mount) -> tuple[dict[str, str], str, str, Path]:
    env, approval, session = _a_home(mount.where)
    filler = mount.where / "filler"
    for size in (65536, 4096, 1):  # the last pages too
        with pytest.raises(OSError) as raised:
            _write_until_full(filler, size)
        assert raised.value.errno == errno.ENOSPC
    return env, approval, session, filler


def test_read_only_commands_read_a_home_whose_disk_is_full(
    full: tuple[dict[str, str], str, str, Path],
) -> None:
    env, approval, session, _ = full
    reads_the_home(env, approval, session)


def test_commands_that_write_on_a_full_disk_say_so_and_work_once_there_is_room(
    full: tuple[dict[str, str], str, str, Path],
) -> None:
    env, approval, _, filler = full
    for command in (
        ("say", "--as", "U0ALICE", "--channel", "C0OPS", "hello"),
        ("approve", approval, "--as", "U0BOB"),
        ("recover",),
        ("reindex",),
    ):
        line = one_error_line(signoff(*command, env=env))
        assert "is full" in line, (command, line)
        assert "reindex` rebuilds" not in line, (command, line)
    filler.unlink()
    done = signoff("approve", approval, "--as", "U0BOB", env=env)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "approved by U0BOB" in done.stdout
    assert signoff("pending", env=env).stdout == "nothing is waiting for a decision\n"
    verified = signoff("verify", env=env)
    assert verified.returncode == 0, (verified.stdout, verified.stderr)


def test_a_reindex_the_full_disk_stops_leaves_no_rebuild_behind(
    full: tuple[dict[str, str], str, str, Path],
) -> None:
    # The rebuild's file was created before the cleanup that removes a failed one was in
    # force: each reindex on a full disk left an `index.sqlite3.rebuild-…` in the home.
    env, _, _, _ = full
    home = Path(env["SIGNOFF_HOME"])
    for _ in range(2):
        one_error_line(signoff("reindex", env=env))
    assert sorted(p.name for p in home.glob("index.sqlite3.rebuild-*")) == []


def test_a_write_the_full_disk_refuses_beside_an_open_index_says_the_disk_is_full(
    full: tuple[dict[str, str], str, str, Path],
) -> None:
    # Beside a running bot the index opens (its -shm file is there); then the message or
    # the decision could not be written, said as "No space left on device" alone, with
    # neither where nor whether anything was recorded.
    env, approval, _, filler = full
    filler.unlink()
    index = sqlite3.connect(Path(env["SIGNOFF_HOME"]) / "index.sqlite3")
    try:
        index.execute("SELECT count(*) FROM sessions").fetchall()  # -shm made, as a bot's
        for size in (65536, 4096, 1):
            with pytest.raises(OSError):
                _write_until_full(filler, size)
        for command in (
            ("say", "--as", "U0ALICE", "--channel", "C0OPS", "x" * 20_000),
            ("approve", approval, "--as", "U0BOB"),
        ):
            line = one_error_line(signoff(*command, env=env))
            assert "is full" in line and env["SIGNOFF_HOME"] in line, (command, line)
    finally:
        index.close()
