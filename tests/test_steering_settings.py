"""The settings that steer tests and benchmarks (SIGNOFF_BUSY_WAIT_S, SIGNOFF_FSYNC,
SIGNOFF_FAILPOINT) are checked like every other: a value signoff cannot use stops the
command with exit 2 and one line naming it. Each was silently ignored, so a typo in a
benchmark's environment measured the default without a word (a found review).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli_errors import env_for, one_error_line, signoff

from sessions import Home

BAD = [
    ("SIGNOFF_BUSY_WAIT_S", "abc"),
    ("SIGNOFF_BUSY_WAIT_S", "-1"),
    ("SIGNOFF_BUSY_WAIT_S", "0"),
    ("SIGNOFF_BUSY_WAIT_S", "nan"),
    ("SIGNOFF_BUSY_WAIT_S", "inf"),
    ("SIGNOFF_BUSY_WAIT_S", "30"),  # it may only shorten the 5 s
    ("SIGNOFF_FSYNC", "off"),  # read as "on": only 0 turned it off
    ("SIGNOFF_FSYNC", "false"),
    ("SIGNOFF_FAILPOINT", "ingest.after_tmp_writ"),  # a typo: no crash where one was meant
]


def _home(tmp_path: Path) -> Path:
    home = Home(tmp_path / "home")
    home.ensure()
    return home.root


@pytest.mark.parametrize("command", [["sessions"], ["run"]])
@pytest.mark.parametrize(("name", "value"), BAD)
def test_a_bad_steering_value_is_one_line_naming_it(
    tmp_path: Path, command: list[str], name: str, value: str
) -> None:
    extra = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "SIGNOFF_HTTP": "off"}
    env = env_for(_home(tmp_path), **extra, **{name: value})
    line = one_error_line(signoff(*command, env=env, timeout=20))
    assert f"{name}" in line and repr(value) in line


def test_the_demo_checks_them_too(tmp_path: Path) -> None:
    env = env_for(tmp_path / "home", SIGNOFF_BUSY_WAIT_S="abc")
    line = one_error_line(signoff("demo", env=env, timeout=20))
    assert "SIGNOFF_BUSY_WAIT_S" in line


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIGNOFF_BUSY_WAIT_S", "0.5"),
        ("SIGNOFF_BUSY_WAIT_S", "5"),
        ("SIGNOFF_FSYNC", "0"),
        ("SIGNOFF_FSYNC", "1"),
        ("SIGNOFF_FAILPOINT", "loop.before_finish"),  # a point `sessions` never reaches
    ],
)
def test_good_values_are_taken(tmp_path: Path, name: str, value: str) -> None:
    done = signoff("sessions", env=env_for(_home(tmp_path), **{name: value}), timeout=20)
    assert done.returncode == 0, done.stderr
