"""The operators' settings: SIGNOFF_HTTP, SIGNOFF_LOG_FORMAT, SIGNOFF_LOG_LEVEL and
SIGNOFF_DRAIN_S are validated at start-up like every other, and a bad one stops
``signoff run`` with one line and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, parse_bind

SIGNOFF = str(Path(sys.executable).with_name("signoff"))


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"SIGNOFF_HOME": str(tmp_path), **env})


def test_defaults(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert s.http_bind == ("127.0.0.1", 9464)
    assert s.log_format is None and s.log_level is None
    assert s.drain_s == 20


def test_values(tmp_path: Path) -> None:
    s = settings(
        tmp_path,
        SIGNOFF_HTTP="0.0.0.0:9100",
        SIGNOFF_LOG_FORMAT="JSON",
        SIGNOFF_LOG_LEVEL="debug",
        SIGNOFF_DRAIN_S="5.5",
    )
    assert s.http_bind == ("0.0.0.0", 9100)
    assert (s.log_format, s.log_level, s.drain_s) == ("json", "DEBUG", 5.5)
    assert settings(tmp_path, SIGNOFF_HTTP="off").http_bind is None
    assert settings(tmp_path, SIGNOFF_HTTP="[::1]:9464").http_bind == ("::1", 9464)


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("SIGNOFF_HTTP", "9464", "http"),
        ("SIGNOFF_HTTP", "localhost:http", "http"),
        ("SIGNOFF_HTTP", "127.0.0.1:70000", "http"),
        ("SIGNOFF_HTTP", ":9464", "http"),
        ("SIGNOFF_LOG_FORMAT", "xml", "log_format"),
        ("SIGNOFF_LOG_LEVEL", "loud", "log_level"),
        ("SIGNOFF_DRAIN_S", "-1", "drain_s"),
        ("SIGNOFF_DRAIN_S", "soon", "drain_s"),
        ("SIGNOFF_DRAIN_S", "nan", "drain_s"),
        ("SIGNOFF_BUDGET_USD", "inf", "budget_usd"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, name: str, value: str, field: str) -> None:
    with pytest.raises(ConfigError, match=f"^configuration: {field}: "):
        settings(tmp_path, **{name: value})


def test_parse_bind_says_what_it_wants() -> None:
    with pytest.raises(ValueError, match="host:port"):
        parse_bind("nope")


def test_signoff_run_with_a_bad_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "SIGNOFF_HOME": str(tmp_path),
        "SIGNOFF_HTTP": "everywhere",
    }
    done = subprocess.run(
        [SIGNOFF, "run"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "signoff: error: configuration: http: Value error, must be host:port "
        "(e.g. 127.0.0.1:9464) or off, not 'everywhere'"
    ]
