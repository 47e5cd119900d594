"""The operators' settings: SIGNOFF_HTTP, SIGNOFF_LOG_FORMAT, SIGNOFF_LOG_LEVEL,
SIGNOFF_DRAIN_S and SIGNOFF_SLACK_TIMEOUT_S are validated at start-up like every other, and a bad one stops
``signoff run`` with one line and exit status 2."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from agent_core.providers.base import ProviderModel
from bot.config import ConfigError, Settings, parse_bind
from bot.metrics import Metrics
from bot.models import build_model
from bot.ops_http import OpsServer
from bot.tooling import open_engine

SIGNOFF = str(Path(sys.executable).with_name("signoff"))


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"SIGNOFF_HOME": str(tmp_path), **env})


def test_defaults(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert s.http_bind == ("127.0.0.1", 9464)
    assert s.log_format is None and s.log_level is None
    assert s.drain_s == 20
    assert s.slack_timeout_s == 30  # slack_sdk's own


def test_values(tmp_path: Path) -> None:
    s = settings(
        tmp_path,
        SIGNOFF_HTTP="0.0.0.0:9100",
        SIGNOFF_LOG_FORMAT="JSON",
        SIGNOFF_LOG_LEVEL="debug",
        SIGNOFF_DRAIN_S="5.5",
        SIGNOFF_SLACK_TIMEOUT_S="10",
    )
    assert s.http_bind == ("0.0.0.0", 9100)
    assert (s.log_format, s.log_level, s.drain_s) == ("json", "DEBUG", 5.5)
    assert s.slack_timeout_s == 10
    assert settings(tmp_path, SIGNOFF_HTTP="off").http_bind is None
    assert settings(tmp_path, SIGNOFF_HTTP="[::1]:9464").http_bind == ("::1", 9464)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIGNOFF_HTTP", "9464"),
        ("SIGNOFF_HTTP", "localhost:http"),
        ("SIGNOFF_HTTP", "127.0.0.1:70000"),
        ("SIGNOFF_HTTP", ":9464"),
        ("SIGNOFF_HTTP", "[::1:9464"),
        ("SIGNOFF_HTTP", "127.0.0.1:\u0669\u0664\u0666\u0664"),  # Arabic-Indic digits
        ("SIGNOFF_LOG_FORMAT", "xml"),
        ("SIGNOFF_LOG_LEVEL", "loud"),
        ("SIGNOFF_DRAIN_S", "-1"),
        ("SIGNOFF_DRAIN_S", "soon"),
        ("SIGNOFF_DRAIN_S", "nan"),
        ("SIGNOFF_SLACK_TIMEOUT_S", "0"),
        ("SIGNOFF_SLACK_TIMEOUT_S", "2.5"),
        ("SIGNOFF_SLACK_TIMEOUT_S", "forever"),
        ("SIGNOFF_BUDGET_USD", "inf"),
        ("SIGNOFF_BUDGET_TOKENS", "1e6"),
        ("SIGNOFF_HISTORY_CHARS", "500"),
        ("SIGNOFF_HISTORY_CHARS", "lots"),
        ("SIGNOFF_ANTHROPIC_CACHE", "maybe"),
        ("SIGNOFF_APPROVALS_CHANNEL", "#ops"),
        # Passed the pattern, then ended `signoff run` in a traceback at its first call.
        ("SLACK_API_URL", "http://127.0.0.1:99999/api/"),
        ("SLACK_API_URL", "http://[::1/api/"),
        ("SLACK_API_URL", "http://:80/"),
        ("SLACK_API_URL", "https://slack\x7f.com/api/"),
        ("SLACK_API_URL", "ftp://slack.com/api/"),
    ],
)
def test_bad_values_are_named_by_their_variable(tmp_path: Path, name: str, value: str) -> None:
    # They were named by the field that holds them (drain_s, http), which no user typed.
    with pytest.raises(ConfigError, match=f"^configuration: {name}: ") as raised:
        settings(tmp_path, **{name: value})
    assert repr(value).lower() in str(raised.value).lower()  # log settings: any case
    assert "Value error" not in str(raised.value)
    assert str(raised.value).count(name) == 1


def test_a_token_of_the_wrong_kind_is_named_and_not_shown(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^configuration: SLACK_BOT_TOKEN: ") as raised:
        settings(tmp_path, SLACK_BOT_TOKEN="xapp-secret")
    assert "secret" not in str(raised.value)


def test_parse_bind_says_what_it_wants() -> None:
    with pytest.raises(ValueError, match="host:port"):
        parse_bind("nope")


def test_signoff_run_with_a_bad_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "SIGNOFF_HOME": str(tmp_path),
        "SIGNOFF_HTTP": "everywhere",
        "SIGNOFF_LOG_FORMAT": "text",  # JSON: test_cli_json_errors.py
        # The code under test, when it is not the installed checkout's.
        **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),
    }
    done = subprocess.run(
        [SIGNOFF, "run"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "signoff: error: configuration: SIGNOFF_HTTP: must be host:port "
        "(e.g. 127.0.0.1:9464) or off, not 'everywhere'"
    ]


async def test_a_host_that_does_not_resolve_says_so(tmp_path: Path) -> None:
    # os.strerror of a resolver's error code: "cannot listen on ...: Unknown error -2".
    server = OpsServer(host="nosuchhost.invalid", port=0, metrics=Metrics(), checks={})
    with pytest.raises(ConfigError, match=r"^SIGNOFF_HTTP: cannot listen on nosuchhost") as raised:
        await server.start()
    assert "Unknown error" not in str(raised.value)


def test_paths_are_made_absolute_and_a_tilde_is_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "~/signoff" (as a unit file or an env file gives it, unexpanded) was a directory
    # named "~" under the working directory; relative file names were kept relative.
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    s = Settings.from_env(
        {
            "SIGNOFF_HOME": "~/signoff",
            "SIGNOFF_CONFIG": "link/signoff.toml",
            "SIGNOFF_POLICY": "~/policy.toml",
            "SIGNOFF_PRICE_TABLE": "prices.json",
        }
    )
    assert s.home == tmp_path / "me" / "signoff"
    assert s.config_path == tmp_path / "real" / "signoff.toml"
    assert s.policy_path == tmp_path / "me" / "policy.toml"
    assert s.price_table == tmp_path / "prices.json"
    assert Settings.from_env({"SIGNOFF_HOME": "link"}).home == tmp_path / "real"


def test_a_path_that_cannot_be_resolved_is_named(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for name, value in [("SIGNOFF_HOME", "~nosuchuser0/x"), ("SIGNOFF_CONFIG", "loop/x.toml")]:
        with pytest.raises(ConfigError, match=f"^configuration: {name}: "):
            settings(tmp_path, **{name: str(tmp_path / value) if "loop" in value else value})


def test_a_bad_model_says_its_variable_once() -> None:
    with pytest.raises(ConfigError, match=r"^SIGNOFF_MODEL='nonsense' is not") as raised:
        build_model("nonsense", env={})
    assert str(raised.value).count("SIGNOFF_MODEL") == 1  # it was "SIGNOFF_MODEL: SIGNOFF_MODEL="


def test_an_ipv6_bind_is_announced_as_a_url() -> None:
    # "/healthz, /readyz, /metrics on http://::1:9464": no URL a browser or curl takes.
    server = OpsServer(host="::1", port=9464, metrics=Metrics(), checks={})
    assert server.url == "http://[::1]:9464"
    assert OpsServer(host="127.0.0.1", port=1, metrics=Metrics(), checks={}).url == (
        "http://127.0.0.1:1"
    )


@pytest.mark.parametrize("home", [None, "relative/home"])
def test_a_working_directory_that_is_gone_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: str | None
) -> None:
    # The default home (./.signoff) or a relative one, from a directory removed meanwhile:
    # "signoff: error: No such file or directory", and nothing else.
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    with pytest.raises(ConfigError, match=r"^configuration: SIGNOFF_HOME: .*working directory"):
        Settings.from_env({} if home is None else {"SIGNOFF_HOME": home})


async def test_the_history_limit_reaches_the_model_signoff_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    assert settings(tmp_path).history_chars == 120_000
    chosen = settings(
        tmp_path, SIGNOFF_MODEL="anthropic:claude-sonnet-4-6", SIGNOFF_HISTORY_CHARS="5000"
    )
    engine = await open_engine(chosen, surface=None)
    try:
        model = engine.rt.model
        assert isinstance(model, ProviderModel) and model.settings.history_chars == 5_000
    finally:
        await engine.close()


# The operator's HTTP with the home check only, in a process that may not write a byte to
# any file (RLIMIT_FSIZE 0: writes fail with EFBIG, as they fail with ENOSPC on a full disk).
FULL_DISK = """
import asyncio, resource, signal, sys
from bot.metrics import Metrics
from bot.ops_http import OpsServer, home_writable
from sessions import Home

async def main() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails instead of killing us
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
    home = Home(sys.argv[1])
    server = OpsServer(
        host="127.0.0.1", port=0, metrics=Metrics(), checks={"home": home_writable(home)}
    )
    await server.start()
    print(server.url, flush=True)
    await asyncio.to_thread(sys.stdin.read)
    await server.stop()

asyncio.run(main())
"""


async def test_readiness_fails_when_the_home_takes_no_more_bytes(tmp_path: Path) -> None:
    # The check created an empty file, which a full disk still allows: ready, while every
    # write of a turn failed. It writes and syncs a byte now.
    home = tmp_path / "home"
    home.mkdir()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", FULL_DISK, str(home),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        url = (await asyncio.wait_for(child.stdout.readline(), 30)).decode().strip()
        async with (
            aiohttp.ClientSession() as http,
            http.get(url + "/readyz", timeout=aiohttp.ClientTimeout(total=10)) as response,
        ):
            status, body = response.status, await response.json()
    finally:
        child.kill()
        await child.wait()
    assert status == 503, body
    assert body["checks"]["home"] == f"{home} is not writable: File too large", body
    assert not list(home.iterdir())  # no probe file left behind


@pytest.mark.parametrize(
    ("value", "marks"), [(None, True), ("on", True), ("OFF", False), ("0", False)]
)
async def test_the_prompt_cache_switch_reaches_the_model_signoff_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str | None, marks: bool
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    chosen = settings(
        tmp_path,
        SIGNOFF_MODEL="anthropic:claude-sonnet-4-6",
        **({} if value is None else {"SIGNOFF_ANTHROPIC_CACHE": value}),
    )
    engine = await open_engine(chosen, surface=None)
    try:
        model = engine.rt.model
        assert isinstance(model, ProviderModel) and model.settings.prompt_cache is marks
    finally:
        await engine.close()
