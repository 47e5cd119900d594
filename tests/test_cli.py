"""The signoff command line, in-process (main(argv)) and as a console script."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from sessions import ApprovalRow, Index, ThreadKey


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SIGNOFF_HOME", str(tmp_path / "h"))
    monkeypatch.delenv("SIGNOFF_POLICY", raising=False)
    monkeypatch.delenv("SIGNOFF_MODEL", raising=False)
    monkeypatch.delenv("SIGNOFF_CONFIG", raising=False)
    monkeypatch.setenv("SIGNOFF_DEMO", "1")
    return tmp_path / "h"


def say(text: str, ts: str) -> int:
    return main(["say", "--as", "U0ALICE", "--channel", "C0OPS", "--thread", "1700000000.000100",
                 "--ts", ts, text])  # fmt: skip


def pending_id(capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["pending"]) == 0
    out = capsys.readouterr().out
    # No policy: anyone of the installation's organization (a Slack Connect guest is not).
    assert "approvers: anyone in signoff's organization but the requester" in out
    return out.split()[0]


def test_chat_approve_trace_verify_reindex(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert say("<@U0BOT> restart api", "1700000000.000100") == 0
    approval = pending_id(capsys)
    assert approval.startswith("appr_")
    assert main(["approve", approval, "--as", "U0ALICE"]) == 1
    assert "someone else must decide" in capsys.readouterr().out
    assert main(["approve", approval, "--as", "U0BOB"]) == 0
    assert "approved by U0BOB" in capsys.readouterr().out
    assert main(["deny", approval, "--as", "U0CAROL"]) == 1
    assert "already decided: approved by U0BOB" in capsys.readouterr().out
    assert main(["sessions"]) == 0
    listing = capsys.readouterr().out
    session = listing.split()[0]
    assert "completed" in listing
    assert "awaiting_approval" in listing
    assert main(["trace", session]) == 0
    trace = capsys.readouterr().out
    assert "restart_service" in trace
    assert f"{approval} approved by U0BOB" in trace
    assert main(["verify"]) == 0
    assert "2 session(s), 0 with problems" in capsys.readouterr().out
    (cli_home / "index.sqlite3").unlink()
    assert main(["reindex"]) == 0
    assert "sessions=2" in capsys.readouterr().out
    assert main(["pending"]) == 0
    assert "nothing is waiting" in capsys.readouterr().out


@pytest.mark.parametrize(
    "bad",
    ["../../etc/passwd", "sess_123", "sess_../../../x", "SESS_0123456789ab", "sess_0123456789ab/..",
     "/tmp/sess_0123456789ab", "sess_0123456789a\x00", "sess_０１２３４５６７８９ab"],
)  # fmt: skip
def test_malformed_session_ids_are_refused_before_any_path(
    cli_home: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    assert main(["trace", bad]) == 2
    err = capsys.readouterr().err
    assert "not a valid session id" in err
    assert main(["verify", bad]) == 2


@pytest.mark.parametrize("bad", ["appr_../../x", "appr_123", "sess_0123456789ab", ""])
def test_malformed_approval_ids_are_refused(
    cli_home: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    assert main(["approve", bad, "--as", "U0BOB"]) == 2
    assert "not a valid approval id" in capsys.readouterr().err


def test_unknown_ids_and_users(cli_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["approve", "appr_0123456789abcdef", "--as", "U0BOB"]) == 2
    assert "no signoff home at" in capsys.readouterr().err  # and none is created
    assert say("restart api", "1700000000.000100") == 0
    assert main(["approve", "appr_0123456789abcdef", "--as", "U0BOB"]) == 2
    assert "no approval appr_0123456789abcdef" in capsys.readouterr().err
    assert main(["trace", "sess_0123456789ab"]) == 2
    assert "no session sess_0123456789ab" in capsys.readouterr().err
    approval = pending_id(capsys)
    assert main(["approve", approval, "--as", "../../bob"]) == 2
    assert "not a valid Slack id" in capsys.readouterr().err


def test_bad_configuration_fails_closed(
    cli_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[default]\napprovers = ["bob"]\n')
    monkeypatch.setenv("SIGNOFF_POLICY", str(policy))
    assert say("restart api", "1700000000.000100") == 2
    assert "'bob' is not a Slack user id" in capsys.readouterr().err
    policy.write_text("[tools.launch_missiles]\nquorum = 2\n")
    assert say("restart api", "1700000000.000100") == 2
    assert "unknown tools: launch_missiles" in capsys.readouterr().err
    monkeypatch.delenv("SIGNOFF_POLICY")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xapp-wrong-kind")
    assert main(["sessions"]) == 2
    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN: must be a bot token" in err
    assert "xapp-wrong-kind" not in err
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.setenv("SIGNOFF_MODEL", "nonsense")
    assert say("hi", "1700000000.000200") == 2
    assert "SIGNOFF_MODEL" in capsys.readouterr().err


def test_verify_reports_tampering(cli_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert say("status of api", "1700000000.000100") == 0
    capsys.readouterr()
    sessions = list((cli_home / "sessions").glob("[0-9a-f][0-9a-f]/sess_*"))
    (sessions[0] / "transcript.jsonl").write_text("{}\n")
    assert main(["verify"]) == 1
    assert "TAMPERED: changed: transcript.jsonl" in capsys.readouterr().out


def test_demo_runs_as_a_console_script(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    exe = Path(sys.executable).with_name("signoff")
    done = subprocess.run(
        [str(exe), "demo", "--home", str(tmp_path / "demo")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "demo finished: everything as expected" in done.stdout
    assert "api restarts = 1" in done.stdout


def test_an_unknown_signoff_variable_is_a_typo_that_stops_start_up(
    cli_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNOFF_MODLE", "offline")
    assert main(["sessions"]) == 2
    assert "unknown setting SIGNOFF_MODLE" in capsys.readouterr().err


def test_reindex_refuses_while_another_process_has_the_index_open(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bot (here an index opened on a thread of this test, as a bot's engine opens it)
    keeps writing its index: a rebuild swapped in under it would be lost to it, and the
    commands that open the new file would not see what the bot writes after."""
    import asyncio
    import threading

    from agent_core.engine import Engine
    from sessions import Home

    assert say("<@U0BOT> restart api", "1700000000.000100") == 0
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    opened = asyncio.run_coroutine_threadsafe(Engine.open_index(Home(cli_home)), loop)
    index: Index = opened.result(timeout=10)
    try:
        capsys.readouterr()
        assert main(["reindex"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "stop it" in err, err
        assert main(["sessions"]) == 0  # reading beside the bot is fine
        assert "awaiting_approval" in capsys.readouterr().out
        # Deleted under the bot: a command says so instead of waiting for a rebuild.
        (cli_home / "index.sqlite3").unlink()
        assert main(["sessions"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "missing while another" in err, err
    finally:
        asyncio.run_coroutine_threadsafe(index.close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        runner.join(timeout=10)
        loop.close()
    assert main(["reindex"]) == 0
    assert "sessions=1" in capsys.readouterr().out


def test_what_a_command_echoes_from_the_thread_cannot_steer_the_terminal(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The echo of what was queued for Slack printed a reason (or any text a reply quotes)
    # as it came: ESC[31m turned the operator's terminal red, \r rewrote the line.
    assert say("<@U0BOT> restart api", "1700000000.000100") == 0
    approval = pending_id(capsys)
    assert main(["deny", approval, "--as", "U0BOB", "--reason", "no \x1b[31mred\rX"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out
    assert "no \\x1b[31mred\\rX" in out


def test_say_and_approve_under_the_kill_switch_say_what_waits(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A turn held by the kill switch printed only the thread, as if it had been answered.
    assert say("<@U0BOT> restart api", "1700000000.000100") == 0
    approval = pending_id(capsys)
    (cli_home / "KILL").write_text("incident")
    assert say("<@U0BOT> and the web?", "1700000000.000200") == 0
    out = capsys.readouterr().out
    assert "the kill switch is on" in out and "answered once it is off" in out
    assert main(["approve", approval, "--as", "U0BOB"]) == 0
    out = capsys.readouterr().out
    assert "approved by U0BOB" in out and "kill switch is on: it waits" in out


async def test_pending_says_when_it_lists_only_the_first_500(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # It stopped at 500 rows without a word: an operator took them for all that waits.
    assert await asyncio.to_thread(say, "<@U0BOT> restart api", "1700000000.000100") == 0
    index = await Index.open(cli_home / "index.sqlite3")
    try:
        fill = ThreadKey(team="T0LOCAL", channel="C0FILL", thread_ts="1600000000.1")
        rows = [
            ApprovalRow(id=f"appr_{n:016x}", session_id=f"sess_{n:012x}", thread=fill,
                        tool="restart_service", args_sha256="0" * 64, requester="U0ALICE",
                        status="pending", created_at="2000-01-01T00:00:00.000Z",
                        expires_at="2099-01-01T00:00:00.000Z")
            for n in range(600)
        ]  # fmt: skip
        await index.put_approvals(rows)
    finally:
        await index.close()
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["pending"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 501
    assert lines[-1] == "… and more: these are the first 500 (oldest first)"
