"""Configuration a careless or hostile user hands ``signoff``, each answered as the README
promises: exit 2 and one line on stderr, never a traceback, never a process that hangs.

Found by a review of the configuration and command-line entry points; every test here
failed on the code it was written against. They run the console script in a subprocess
(``test_cli_errors``): a hang or a traceback printed at interpreter exit only shows there.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest
from test_cli_errors import SIGNOFF, SilentServer, env_for, one_error_line, signoff

from agent_core.messages import Usage
from agent_core.providers import load_price_table
from approvals import load_policy
from bot.config import ConfigError, Settings


@pytest.mark.parametrize(
    "command", [["sessions"], ["say", "--as", "U0A", "--channel", "C0OPS", "hi"]]
)
@pytest.mark.parametrize("kind", ["garbage", "directory"])
def test_an_index_that_cannot_be_opened_is_one_line_and_no_hang(
    tmp_path: Path, command: list[str], kind: str
) -> None:
    # The index's thread was left running (a hang at exit) or was told to stop after the
    # event loop had closed (a traceback from that thread).
    home = tmp_path / "home"
    (home / "sessions").mkdir(parents=True)
    if kind == "garbage":
        (home / "index.sqlite3").write_bytes(b"not a database, " * 512)
    else:
        (home / "index.sqlite3").mkdir()
    line = one_error_line(signoff(*command, env=env_for(home, SIGNOFF_DEMO="1"), timeout=20))
    assert "index" in line


def _config_files(tmp_path: Path) -> dict[str, Path]:
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 50_000 + "]" * 50_000 + "\n")
    huge = tmp_path / "huge.toml"
    with huge.open("w") as out:  # valid TOML: one comment line past the cap
        out.write("# " + "x" * (2 << 20) + "\n")
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)  # nobody ever writes to it: reading it blocked forever
    return {"deep": deep, "huge": huge, "fifo": fifo}


@pytest.mark.parametrize("variable", ["SIGNOFF_CONFIG", "SIGNOFF_POLICY"])
@pytest.mark.parametrize(("kind", "said"), [("deep", "nested"), ("huge", "MiB"), ("fifo", "file")])
def test_a_config_file_too_deep_too_big_or_no_file_is_one_line(
    tmp_path: Path, variable: str, kind: str, said: str
) -> None:
    path = _config_files(tmp_path)[kind]
    env = env_for(tmp_path / "home", SIGNOFF_DEMO="1", **{variable: str(path)})
    line = one_error_line(signoff("recover", env=env, timeout=20))
    assert str(path) in line and said in line


def test_a_price_table_nested_too_deep_is_one_line(tmp_path: Path) -> None:
    table = tmp_path / "prices.json"
    table.write_text("[" * 100_000 + "]" * 100_000)
    env = env_for(tmp_path / "home", SIGNOFF_DEMO="1", SIGNOFF_PRICE_TABLE=str(table))
    line = one_error_line(signoff("recover", env=env, timeout=20))
    assert "SIGNOFF_PRICE_TABLE" in line and "nested" in line


def test_run_with_a_slack_api_url_it_cannot_call_is_one_line(tmp_path: Path) -> None:
    env = env_for(
        tmp_path / "home",
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_APP_TOKEN="xapp-1",
        SLACK_API_URL="http://[::1/api/",
        SIGNOFF_HTTP="off",
    )
    assert "SLACK_API_URL" in one_error_line(signoff("run", env=env, timeout=20))


@pytest.mark.parametrize("command", ["run", "doctor"])
def test_a_slack_api_url_with_a_password_is_one_line_that_does_not_show_it(
    tmp_path: Path, command: str
) -> None:
    """Slack's client sends the token as the Authorization header, and aiohttp refuses a
    request that also has credentials in its URL: every call failed with a ValueError, so
    ``run`` stopped "on an unexpected error" with a traceback, and ``doctor`` printed one."""
    env = env_for(
        tmp_path / "home",
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_APP_TOKEN="xapp-1",
        SLACK_API_URL="http://signoff:Pa55-w0rd-x9q@127.0.0.1:9/api/",
        SIGNOFF_HTTP="off",
    )
    done = signoff(command, env=env, timeout=30)
    line = one_error_line(done)
    assert "SLACK_API_URL" in line and "password" in line, line
    assert "Pa55-w0rd-x9q" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "url",
    [
        "http://signoff:Pa55@w0rd-x9q@127.0.0.1:9/api/",  # an @ in the password
        "http://signoff:Pa55@w0rd@x9q@127.0.0.1:9/api/",
        "http://signoff:Pa55/w0rd-x9q@127.0.0.1:9/api/",  # a / no client reads as one
    ],
)
def test_a_slack_api_url_s_password_is_never_shown_in_part(tmp_path: Path, url: str) -> None:
    """Only what came before the first ``@`` was hidden: ``Pa55@w0rd-x9q`` was shown as
    ``…@w0rd-x9q@127.0.0.1``, and one with a ``/`` whole."""
    env = {"SIGNOFF_HOME": str(tmp_path / "home"), "SLACK_API_URL": url}
    with pytest.raises(ConfigError, match="SLACK_API_URL") as refused:
        Settings.from_env(env)
    said = str(refused.value)
    assert "w0rd" not in said and "x9q" not in said, said
    assert "127.0.0.1:9/api/" in said, said  # where it points is still said


async def test_run_stops_on_sigterm_while_slack_does_not_answer_its_first_call(
    tmp_path: Path,
) -> None:
    # auth.test, in the bot's build, waited out its 30 s timeout (and its retries) with
    # the SIGTERM pending; then the process ended in an error, not a clean stop.
    async with SilentServer() as slack:
        env = env_for(
            tmp_path / "home",
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_APP_TOKEN="xapp-1",
            SLACK_API_URL=f"http://127.0.0.1:{slack.port}/api/",
            SIGNOFF_HTTP="off",
            SIGNOFF_LOG_FORMAT="json",
        )
        child = await asyncio.create_subprocess_exec(
            SIGNOFF, "run", env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            async with asyncio.timeout(20):  # auth.test, in the bot's build, is under way
                await slack.called.wait()
            child.send_signal(signal.SIGTERM)
            async with asyncio.timeout(15):  # well inside auth.test's 30 s
                _, err = await child.communicate()
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
    assert child.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    # The log ends as every clean exit's does (it stopped at "stopping").
    events = [json.loads(line)["event"] for line in err.decode().splitlines()]
    assert "stopping" in events and events[-1] == "stopped", events


@pytest.mark.parametrize(
    ("variable", "text"),
    [
        # A key with a line break or a terminal escape (quoted keys may hold any) came out
        # as written: two lines, or the terminal's colours changed.
        ("SIGNOFF_POLICY", '[default]\n"a\\nb" = 1\n'),
        ("SIGNOFF_POLICY", '[tools."x\\ny"]\nquorum = 1\n'),
        ("SIGNOFF_CONFIG", '[policy.default]\n"a\\rb\\u001b[31m" = 1\n'),
    ],
)
def test_an_error_quoting_control_characters_is_still_one_line(
    tmp_path: Path, variable: str, text: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    env = env_for(tmp_path / "home", SIGNOFF_DEMO="1", **{variable: str(path)})
    line = one_error_line(signoff("recover", env=env))
    assert line.isprintable() and ("\\n" in line or "\\r" in line)


@pytest.mark.parametrize("variable", ["SIGNOFF_CONFIG", "SIGNOFF_POLICY"])
@pytest.mark.parametrize("text", ["[default\n", "[default]\nquorum = 0\n", "[policy]\nx = 1\n"])
def test_an_error_in_a_named_file_names_its_variable(
    tmp_path: Path, variable: str, text: str
) -> None:
    # "/x/p.toml: not valid TOML ..." said which file, not which setting named it.
    path = tmp_path / "named.toml"
    path.write_text(text)
    env = env_for(tmp_path / "home", SIGNOFF_DEMO="1", **{variable: str(path)})
    line = one_error_line(signoff("recover", env=env))
    assert line.startswith(f"signoff: error: {variable}: ") and str(path) in line


def test_a_config_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    # "UTF-8 with BOM" (Notepad's default for years): the mark is invisible in an editor,
    # and was "not valid TOML: Invalid statement (at line 1, column 1)".
    policy = tmp_path / "policy.toml"
    policy.write_bytes(b"\xef\xbb\xbf[default]\nquorum = 2\n")
    assert load_policy(policy).default.quorum == 2
    prices = tmp_path / "prices.json"
    prices.write_bytes(b'\xef\xbb\xbf{"models": {"m": {"input": 1, "output": 2}}}')
    assert load_price_table(prices).cost_usd("m", Usage(input_tokens=10**6)) == 1


def test_run_without_its_tokens_says_so_and_creates_no_home(tmp_path: Path) -> None:
    # The home was created (a stray ./.signoff for a mistyped command) before the tokens
    # were looked at.
    line = one_error_line(signoff("run", env=env_for(tmp_path / "home", SIGNOFF_HTTP="off")))
    assert "SLACK_BOT_TOKEN" in line
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("verb", ["approve", "deny"])
def test_a_decision_on_a_home_that_does_not_exist_creates_none(tmp_path: Path, verb: str) -> None:
    # A mistyped SIGNOFF_HOME got a whole new home (index, sessions/) and then "no approval".
    home = tmp_path / "home"
    args = [verb, "appr_0123456789abcdef", "--as", "U0BOB"]
    line = one_error_line(signoff(*args, env=env_for(home, SIGNOFF_DEMO="1")))
    assert f"no signoff home at {home}" in line
    assert not home.exists()


@pytest.mark.parametrize(
    "command", [["dev", "--port", "0"], ["say", "--as", "U0A", "--channel", "C0OPS", "hi"]]
)
def test_a_home_whose_path_is_not_utf8_is_one_line(tmp_path: Path, command: list[str]) -> None:
    # Taken as it was: the first line that printed the path in a UTF-8 locale (`dev`'s
    # "data in …", `say`'s kill switch note) stopped the command with a traceback.
    home = Path(os.fsdecode(os.fsencode(tmp_path) + b"/home-\xff"))
    home.mkdir()
    (home / "KILL").touch()
    env = env_for(home, SIGNOFF_DEMO="1", SIGNOFF_HTTP="off")
    env["PYTHONIOENCODING"] = "utf-8:strict"  # as with LANG=en_US.UTF-8
    line = one_error_line(signoff(*command, env=env, timeout=30))
    assert "SIGNOFF_HOME" in line and "UTF-8" in line


async def test_a_second_dev_on_one_home_is_one_line(tmp_path: Path) -> None:
    # Both ran: each with its own chat, one file for both chats (the last to write it
    # won), and one engine whose replies the first one's delivery posted to its own chat,
    # where a thread begun in the second does not exist ("gave up on reply-…").
    env = env_for(tmp_path / "home", SIGNOFF_HTTP="off")
    first = await asyncio.create_subprocess_exec(
        SIGNOFF, "dev", "--port", "0", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert first.stdout is not None
    try:
        async with asyncio.timeout(30):
            while b"open http" not in await first.stdout.readline():
                pass
        second = await asyncio.to_thread(signoff, "dev", "--port", "0", env=env, timeout=30)
    finally:
        first.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            await first.communicate()
    line = one_error_line(second)
    assert "another signoff dev" in line and str(tmp_path / "home") in line
    assert first.returncode == 0
