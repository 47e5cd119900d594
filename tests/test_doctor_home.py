"""``signoff doctor`` checks the home: a bot on a home it cannot write, or whose disk is
full, acks no message and records no click, while every line of the doctor said ``ok``.

Real file systems: a small tmpfs, filled by a file or remounted read-only.
"""

from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest
from test_cli_errors import env_for, signoff
from test_cli_full_disk import _write_until_full
from test_cli_read_only_home import Mount, _a_home
from test_cli_read_only_home import mount as mount  # the fixture, used below


def _doctor(env: dict[str, str]) -> tuple[int, str]:
    done = signoff("doctor", env={**env, "SIGNOFF_DEMO": "1"})
    assert "Traceback" not in done.stderr, done.stderr
    (line,) = [x for x in done.stdout.splitlines() if "SIGNOFF_HOME" in x]
    return done.returncode, line


def test_doctor_says_a_home_that_is_fine_and_one_not_made_yet(tmp_path: Path) -> None:
    code, line = _doctor(env_for(tmp_path / "home"))
    assert code == 0 and line.startswith("ok:") and "does not exist yet" in line, line
    assert not (tmp_path / "home").exists()
    (tmp_path / "home").mkdir()
    code, line = _doctor(env_for(tmp_path / "home"))
    assert code == 0 and re.search(r"^ok: SIGNOFF_HOME .*: writable, [\d.]+ \w+ free$", line)


def test_doctor_says_a_read_only_home(mount: Mount) -> None:
    env, _, _ = _a_home(mount.where)
    mount.read_only()
    code, line = _doctor(env)
    assert code == 1 and line.startswith("problem:") and "read-only file system" in line, line


def test_doctor_says_a_full_disk(mount: Mount) -> None:
    env, _, _ = _a_home(mount.where)
    with pytest.raises(OSError) as raised:
        _write_until_full(mount.where / "filler", 4096)
    assert raised.value.errno == errno.ENOSPC
    code, line = _doctor(env)
    assert code == 1 and line.startswith("problem:") and "is full" in line, line
    (mount.where / "filler").unlink()
    code, line = _doctor(env)
    assert code == 0 and line.startswith("ok:"), line
