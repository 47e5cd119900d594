"""A second operator's review of the command line (2026-12-06): each test is a case that
ended wrong before its fix, run as an operator's shell would give it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from test_cli_errors import SIGNOFF, env_for, one_error_line, signoff
from test_cli_operator_review import (  # noqa: F401 (cli_home: a fixture)
    _without_override,
    cli_home,
)

from bot.cli import main
from bot.slack_text import MAX_REASON


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def _asked(capsys: pytest.CaptureFixture[str], text: str = "restart api") -> tuple[str, str]:
    """Alice asks: the id of the request that waits, and the hash its card shows."""
    assert main(["say", "--as", "U0ALICE", "--channel", "C0OPS", text]) == 0
    out = capsys.readouterr().out
    words = out.split()
    approval = next(w for w in words if w.startswith("appr_"))
    return approval, words[words.index("hash") + 1]


@pytest.mark.usefixtures("cli_home")
def test_a_hash_that_matches_nothing_is_not_called_an_edit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``approve --hash 000000000000`` on a request nobody edited said "the arguments were
    edited after you saw them": nothing was edited, the hash was wrong. It says the hash
    does not match and shows the request's; nothing is decided."""
    approval, shown = _asked(capsys)
    assert main(["approve", approval, "--as", "U0BOB", "--hash", "000000000000"]) == 1
    out = capsys.readouterr().out
    assert "edited" not in out, out
    assert "000000000000 does not match the arguments of this request" in out, out
    assert f"its hash is {shown})" in out, out
    assert main(["approve", approval, "--as", "U0BOB", "--hash", shown]) == 0
    assert "approved by U0BOB" in capsys.readouterr().out


def test_audit_reports_a_session_it_cannot_read_and_exports_the_rest(tmp_path: Path) -> None:
    """One session whose ``approvals/`` it may not list (another user's, mode 000) ended
    ``audit`` with exit 2 and "Permission denied": nothing exported. That session is a
    row flagged unreadable, with one warning line on stderr; the rest is exported; exit 1
    (a record it could not read is a problem found, as a flagged approval is)."""
    home = tmp_path / "h"
    env = env_for(home, SIGNOFF_DEMO="1")
    for text in ("restart api", "restart web"):
        said = signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", text, env=env)
        assert said.returncode == 0, said.stderr
    hidden, seen = sorted((home / "sessions").glob("*/sess_*"))
    (hidden / "approvals").chmod(0)
    try:
        done = _without_override(home, "audit")
        as_csv = _without_override(home, "audit", "--format", "csv")
    finally:
        (hidden / "approvals").chmod(0o755)
    assert done.returncode == 1, (done.stdout, done.stderr)
    warning, summary = done.stderr.splitlines()
    assert warning.startswith(f"signoff: warning: session {hidden.name}: "), warning
    assert "could not be read" in warning and "Permission denied" in warning, warning
    assert summary.startswith("audit: "), summary
    records = [json.loads(line) for line in done.stdout.splitlines()]
    ok = [r for r in records if r["session_id"] == seen.name]
    assert len(ok) == 1 and ok[0]["seal"] == "ok" and ok[0]["problems"] == [], records
    (row,) = [r for r in records if r["session_id"] == hidden.name and not r["approval_id"]]
    assert row["seal"] == "unreadable" and row["records_seal"] == "unreadable", row
    assert any("Permission denied" in p for p in row["problems"]), row
    assert as_csv.returncode == 1 and "Traceback" not in as_csv.stderr, as_csv.stderr
    assert hidden.name in as_csv.stdout and seen.name in as_csv.stdout


def _to_full_disk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    with open("/dev/full", "w") as full:
        return subprocess.run(
            [SIGNOFF, *args], env=env, stdout=full, stderr=subprocess.PIPE,
            text=True, timeout=30, check=False,
        )  # fmt: skip


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_decision_recorded_but_not_printed_says_so(tmp_path: Path) -> None:
    """``approve … > /dev/full`` exited 2 ("No space left on device"), the usage error's
    status, although the decision was recorded, and the approved call was left for a bot:
    the command stopped at its first line. The work is done, and exit 3 says, in one line,
    that the decision stands but its output could not be written. Likewise ``deny`` and
    ``say``."""
    home = tmp_path / "h"
    env = env_for(home, SIGNOFF_DEMO="1")
    ids = []
    for text in ("restart api", "restart web"):
        said = signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", text, env=env)
        ids += [w for w in said.stdout.split() if w.startswith("appr_")]
    for verb, approval in zip(("approve", "deny"), ids, strict=True):
        done = _to_full_disk(env, verb, approval, "--as", "U0BOB")
        assert done.returncode == 3, (verb, done.stderr)
        (line,) = done.stderr.splitlines()
        assert "the decision is recorded" in line and "could not be written" in line, line
        assert "No space left on device" in line, line
    fleet = json.loads((home / "fleet.json").read_text())
    assert fleet["services"]["api"]["restarts"] == 1  # run by approve, not left for a bot
    audited = signoff("audit", env=env)
    statuses = {
        r["approval_id"]: r["status"] for r in map(json.loads, audited.stdout.split("\n")[:-1])
    }
    assert statuses == dict(zip(ids, ("approved", "denied"), strict=True)), statuses
    done = _to_full_disk(env, "say", "--as", "U0ALICE", "--channel", "C0OPS", "status of api")
    assert done.returncode == 3, done.stderr
    (line,) = done.stderr.splitlines()
    assert "the message is stored" in line and "could not be written" in line, line


@pytest.mark.usefixtures("cli_home")
def test_a_reason_longer_than_the_modal_takes_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Slack's reason modal takes at most 1,000 characters; ``--reason`` took any length
    (a pasted log went onto the card, the trace and the model's prompt). Over the limit
    it is a usage error; at the limit it is taken."""
    approval, _ = _asked(capsys)
    for verb in ("approve", "deny"):
        assert main([verb, approval, "--as", "U0BOB", "--reason", "x" * (MAX_REASON + 1)]) == 2
        line = _one_line(capsys)
        assert "--reason" in line and f"{MAX_REASON:,}" in line, line
    assert main(["deny", approval, "--as", "U0BOB", "--reason", "x" * MAX_REASON]) == 0
    assert "denied by U0BOB" in capsys.readouterr().out


def test_demo_reports_an_unknown_setting_as_every_command_does(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``SIGNOFF_HOMEE=…`` (a typo) stops ``run``, ``dev`` and every other command; ``demo``
    ran as if it were not there."""
    monkeypatch.setenv("SIGNOFF_HOMEE", "/tmp/x")
    assert main(["demo"]) == 2
    assert "unknown setting SIGNOFF_HOMEE (did you mean SIGNOFF_HOME?)" in _one_line(capsys)
    assert capsys.readouterr().out == ""


def test_json_logs_stay_json_on_a_stderr_that_is_not_utf8(tmp_path: Path) -> None:
    """With SIGNOFF_LOG_FORMAT=json on a stderr that cannot encode a character (an ASCII
    or Latin-1 locale), the line was written with Python's escapes ("\\U0001f6d1"), which
    JSON does not have: the log collector dropped the line that said why the bot stopped."""
    missing = tmp_path / "🛑 config.toml"
    env = env_for(
        tmp_path / "h", SIGNOFF_LOG_FORMAT="json", PYTHONIOENCODING="ascii",
        SIGNOFF_CONFIG=str(missing), SIGNOFF_HTTP="off",
        SLACK_BOT_TOKEN="xoxb-0-0", SLACK_APP_TOKEN="xapp-0-0",
    )  # fmt: skip
    done = signoff("run", env=env)
    line = one_error_line(done)  # parses the JSON line
    assert "🛑 config.toml" in line, line


def test_audit_and_verify_report_a_shard_they_cannot_list_and_check_the_rest(
    tmp_path: Path,
) -> None:
    """A shard of sessions (``sessions/f7/``) it may not list (another user's, mode 000)
    ended ``audit`` and ``verify`` with exit 2 and "Permission denied": nothing exported or
    verified. The shard is named in one warning line (audit: a row flagged unreadable too),
    the other shards are exported and verified, and the exit status is 1."""
    home = tmp_path / "h"
    env = env_for(home, SIGNOFF_DEMO="1")
    shards: list[Path] = []
    while len(shards) < 2:  # two sessions may share a shard (1 in 256): ask again
        said = signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", "restart api", env=env)
        assert said.returncode == 0, said.stderr
        shards = sorted({p.parent for p in (home / "sessions").glob("*/sess_*")})
    hidden, shown = shards[0], shards[1:]
    seen = {p.name for shard in shown for p in shard.glob("sess_*")}
    hidden.chmod(0)
    try:
        audit = _without_override(home, "audit")
        verify = _without_override(home, "verify")
    finally:
        hidden.chmod(0o755)
    assert audit.returncode == 1, (audit.stdout, audit.stderr)
    warning, summary = audit.stderr.splitlines()
    assert warning.startswith(f"signoff: warning: the sessions in {hidden}"), warning
    assert "Permission denied" in warning and "Traceback" not in audit.stderr, warning
    assert summary.startswith("audit: ") and "1 shard(s) unreadable" in summary, summary
    records = [json.loads(line) for line in audit.stdout.splitlines()]
    ok = [r for r in records if r["session_id"] in seen]
    assert len(ok) == len(seen) and all(r["seal"] == "ok" for r in ok), records
    (row,) = [r for r in records if not r["approval_id"] and not r["session_id"]]
    assert row["seal"] == "unreadable" and str(hidden) in row["problems"][0], row
    assert verify.returncode == 1, (verify.stdout, verify.stderr)
    assert "Traceback" not in verify.stderr, verify.stderr
    assert f"{hidden}: UNREADABLE: Permission denied" in verify.stdout, verify.stdout
    assert f"verified {len(seen)} session(s), 1 with problems" in verify.stdout, verify.stdout
