"""An operator's and a hostile user's review of the command line (2026-12-06): each test
is a case that ended wrong before its fix, run through ``main(argv)`` as an operator's
shell would give it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_cli_errors import SIGNOFF, env_for, one_error_line, signoff

from bot.cli import main


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SIGNOFF_POLICY", "SIGNOFF_MODEL", "SIGNOFF_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIGNOFF_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("SIGNOFF_DEMO", "1")
    return tmp_path / "h"


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def _asked(capsys: pytest.CaptureFixture[str]) -> str:
    """Alice asks for a restart: the id of the request that waits."""
    assert main(["say", "--as", "U0ALICE", "--channel", "C0OPS", "restart api"]) == 0
    capsys.readouterr()
    assert main(["pending"]) == 0
    return capsys.readouterr().out.split()[0]


def test_only_a_user_id_may_decide_or_speak(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--as`` is "the deciding Slack user id": a channel's or a team's id was taken for
    one, and `approve … --as C0OPS` approved the request as "C0OPS" (policy files refuse
    such an approver). Likewise a user id for ``--channel`` and ``--team``."""
    approval = _asked(capsys)
    for who in ("C0OPS", "T0LOCAL", "S0OPS", "D0DM"):
        assert main(["approve", approval, "--as", who]) == 2, who
        assert "not a Slack user id" in _one_line(capsys), who
        assert main(["deny", approval, "--as", who]) == 2, who
        _one_line(capsys)
    assert main(["pending"]) == 0  # nothing was decided
    assert approval in capsys.readouterr().out
    bad_says = (
        ["--as", "C0OPS", "--channel", "C0OPS"],
        ["--as", "U0BOB", "--channel", "U0BOB"],
        ["--as", "U0BOB", "--channel", "C0OPS", "--team", "U0X"],
    )
    for args in bad_says:
        assert main(["say", *args, "hello"]) == 2, args
        _one_line(capsys)
    # What Slack gives: users U…/W…, channels C…/G…/D…, teams T…/E… (Enterprise Grid).
    assert main(["say", "--as", "W0BOB", "--team", "E0GRID", "--channel", "D0DM", "hi"]) == 0
    assert main(["approve", approval, "--as", "W0BOB"]) == 0
    assert "approved by W0BOB" in capsys.readouterr().out


def test_pending_reads_the_policy_without_the_bots_secrets(
    cli_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """``pending`` reads the config for its ``[policy]`` (a quorum's votes) and opens no
    tool: in an operator's shell without the bot's tokens, a ``${OPS_TOKEN}`` in a
    server's headers ended it with "${OPS_TOKEN} is not set" (docs/tools.md: the config is
    checked by the commands that build the engine). Its policy is still checked."""
    approval = _asked(capsys)
    config = tmp_path / "signoff.toml"
    config.write_text(
        "[policy.tools.restart_service]\nquorum = 2\n\n"
        '[mcp.servers.ops]\nurl = "http://127.0.0.1:9/mcp"\n'
        'headers = { Authorization = "Bearer ${OPS_TOKEN}" }\n'
    )
    monkeypatch.setenv("SIGNOFF_CONFIG", str(config))
    monkeypatch.delenv("OPS_TOKEN", raising=False)
    assert main(["pending"]) == 0, capsys.readouterr().err
    assert approval in capsys.readouterr().out
    assert main(["approve", approval, "--as", "U0BOB"]) == 2  # this one opens the server
    assert "${OPS_TOKEN} is not set" in _one_line(capsys)
    config.write_text(config.read_text().replace("quorum = 2", "quorum = 0"))
    assert main(["pending"]) == 2
    assert "quorum" in _one_line(capsys)


def _without_override(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``signoff`` as a user without root's override of file modes: root in a user
    namespace of its own reads only what a file's mode lets its owner read."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare(1): a mode that stops root is tested as root")
    probe = subprocess.run(["unshare", "-U", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"no user namespaces here: {probe.stderr.decode().strip()}")
    return subprocess.run(
        ["unshare", "-U", SIGNOFF, *args], env=env_for(home, SIGNOFF_DEMO="1"),
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def test_a_home_it_may_not_look_into_is_named_as_the_home(tmp_path: Path) -> None:
    """A home of another user's (mode 000 here) ended every command, ``doctor`` included,
    with "Permission denied: <home>/signoff.toml": a file nobody made, which the operator
    went looking for. The line names SIGNOFF_HOME."""
    home = tmp_path / "h"
    assert (
        signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", "hi", env=env_for(home)).returncode
        == 0
    )
    home.chmod(0)
    try:
        for command in (["sessions"], ["pending"], ["doctor"]):
            line = one_error_line(_without_override(home, *command))
            assert f"SIGNOFF_HOME {home}" in line and "Permission denied" in line, line
            assert "signoff.toml" not in line, line
    finally:
        home.chmod(0o755)


def test_verify_reports_a_session_it_cannot_read_and_checks_the_rest(tmp_path: Path) -> None:
    """One session it may not read (another user's, mode 000) ended ``verify`` with exit 2
    and "Permission denied": no word on any other session. It is a problem found (exit 1),
    named, and the others are checked."""
    home = tmp_path / "h"
    for text in ("hi", "status of api"):
        said = signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", text, env=env_for(home))
        assert said.returncode == 0, said.stderr
    hidden, seen = sorted((home / "sessions").glob("*/sess_*"))
    hidden.chmod(0)
    try:
        done = _without_override(home, "verify")
    finally:
        hidden.chmod(0o755)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stderr == "", done.stderr
    assert f"{hidden.name}: UNREADABLE: Permission denied" in done.stdout, done.stdout
    assert seen.name not in done.stdout  # checked, and intact
    assert "verified 2 session(s), 1 with problems" in done.stdout


@pytest.mark.parametrize("command", [["recover"], ["dev", "--port", "0"]])
def test_a_policy_file_dev_cannot_use_is_named_by_its_variable(
    tmp_path: Path, command: list[str]
) -> None:
    """``dev`` loaded SIGNOFF_POLICY's file itself and said "policy file not found: …",
    where every other command says which setting named the file."""
    home = tmp_path / "home"
    env = env_for(home, SIGNOFF_POLICY=str(tmp_path / "missing.toml"), SIGNOFF_HTTP="off")
    line = one_error_line(signoff(*command, env=env))
    assert line.startswith("signoff: error: SIGNOFF_POLICY: "), line
    assert "missing.toml" in line


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[default]\nbogus = 1\n", "default.bogus: unknown key"),
        ('[default]\nexpires_after = "0s"\n', "default.expires_after: a duration must be positive"),
        ("default = 5\n", "default: Input should be a valid dictionary (a table)"),
    ],
)
def test_a_policy_error_is_said_in_the_configs_words(
    cli_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    text: str,
    said: str,
) -> None:
    """A policy's mistakes came in pydantic's words ("Extra inputs are not permitted",
    "Value error, …", "…or instance of _RuleInput", a class of ours), where the same
    mistake in SIGNOFF_CONFIG says "unknown key"."""
    assert main(["say", "--as", "U0ALICE", "--channel", "C0OPS", "hi"]) == 0  # a home
    capsys.readouterr()
    policy = tmp_path / "policy.toml"
    policy.write_text(text)
    monkeypatch.setenv("SIGNOFF_POLICY", str(policy))
    assert main(["pending"]) == 2
    line = _one_line(capsys)
    assert line.rstrip("\n").endswith(said), line
    assert "Value error" not in line and "_RuleInput" not in line, line


def test_an_unknown_setting_with_a_space_in_its_name_is_shown_with_it(
    cli_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SIGNOFF_HOME =/data`` in an env file is a variable named "SIGNOFF_HOME ": the line
    said "unknown setting SIGNOFF_HOME ; known: …, SIGNOFF_HOME, …", a name it knows. The
    name is quoted when it holds more than letters, digits and _, and the one meant named."""
    monkeypatch.setenv("SIGNOFF_HOME ", "/data")
    assert main(["sessions"]) == 2
    line = _one_line(capsys)
    assert "unknown setting 'SIGNOFF_HOME ' (did you mean SIGNOFF_HOME?)" in line, line
    monkeypatch.delenv("SIGNOFF_HOME ")
    monkeypatch.setenv("SIGNOFF_MODLE", "offline")
    assert main(["sessions"]) == 2
    assert "unknown setting SIGNOFF_MODLE (did you mean SIGNOFF_MODEL?)" in _one_line(capsys)


def test_doctor_checks_the_policy_run_would_refuse(
    cli_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """ "Before a deploy, `signoff doctor` with the same environment checks … the tools"
    (docs/operations.md): a SIGNOFF_POLICY that is missing, or that names a tool nobody
    defines, passed it (exit 0, all "ok"), and ``run`` then refused to start."""
    policy = tmp_path / "policy.toml"
    monkeypatch.setenv("SIGNOFF_POLICY", str(policy))
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert f"problem: policy: SIGNOFF_POLICY: policy file not found: {policy}" in out, out
    policy.write_text("[tools.launch_missiles]\nquorum = 2\n")
    assert main(["doctor"]) == 1
    assert "policy names unknown tools: launch_missiles" in capsys.readouterr().out
    policy.write_text("[tools.restart_service]\nquorum = 2\n")
    assert main(["doctor"]) == 0
    assert f"ok: policy: {policy}" in capsys.readouterr().out
    assert not cli_home.exists()  # a doctor makes no home


def test_demo_refuses_an_empty_home_or_one_that_is_no_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``demo --home "$DIR"`` with DIR unset ran in a temporary directory, the data it was
    asked to keep gone at the end; ``--home /dev/null`` printed "data in /dev/null" and
    ended on "File exists: /dev/null"."""
    assert main(["demo", "--home", ""]) == 2
    assert "--home" in _one_line(capsys)
    assert main(["demo", "--home", os.devnull]) == 2
    assert "not an empty directory" in _one_line(capsys)
    assert capsys.readouterr().out == ""


def test_pending_never_passes_a_tampered_records_escapes_to_the_terminal(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``pending`` printed a capsule's requester as the files have it: one rewritten with
    a terminal escape (ESC ]0; sets the window title, others rewrite the screen) drove
    the operator's terminal. ``sessions``, ``trace``, ``show`` and ``audit`` escape it."""
    approval = _asked(capsys)
    (capsule,) = cli_home.glob(f"sessions/*/*/approvals/{approval}.json")
    record = json.loads(capsule.read_text())
    record["requester"] = "U0EVIL\x1b]0;pwned\x07\x1b[2J"
    capsule.write_text(json.dumps(record))
    assert main(["reindex"]) == 0
    capsys.readouterr()
    assert main(["pending"]) == 0
    out = capsys.readouterr().out
    assert approval in out
    assert "\x1b" not in out and "\x07" not in out, repr(out)
    assert "U0EVIL\\x1b]0;pwned" in out  # shown, as text
    # And a decision rewritten so: "already decided: denied by …" printed it as it is.
    assert main(["deny", approval, "--as", "U0BOB"]) == 0
    (decision,) = cli_home.glob(f"sessions/*/*/approvals/{approval}.decision.json")
    record = json.loads(decision.read_text())
    record["deciders"] = ["U0BOB\x1b]0;pwned\x07"]
    decision.write_text(json.dumps(record))
    capsys.readouterr()
    assert main(["approve", approval, "--as", "U0CAROL"]) == 1
    out = capsys.readouterr().out
    assert "already decided: denied by U0BOB\\x1b]0;pwned" in out, repr(out)
    assert "\x1b" not in out and "\x07" not in out, repr(out)


def test_deny_under_the_kill_switch_says_the_thread_waits(
    cli_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``say`` and ``approve`` under the kill switch say their thread waits for it; ``deny``
    said "denied by U0BOB" alone, as if the model had been told (it is, once it is off)."""
    approval = _asked(capsys)
    (cli_home / "KILL").write_text("incident")
    assert main(["deny", approval, "--as", "U0BOB", "--reason", "not now"]) == 0
    out = capsys.readouterr().out
    assert "denied by U0BOB" in out
    assert "the kill switch is on" in out and "told once it is off" in out, out
    (cli_home / "KILL").unlink()
    assert main(["recover"]) == 0
    assert "I did not run `restart_service`: denied by" in capsys.readouterr().out


def test_a_terminal_that_cannot_show_a_character_gets_it_escaped(tmp_path: Path) -> None:
    """On a terminal whose encoding is not UTF-8 (an ISO-8859-1 locale, a Windows console,
    PYTHONIOENCODING=ascii) the card's "┌" ended ``say`` on a UnicodeEncodeError traceback
    (exit 1), its message stored; ``trace`` too. They are written escaped, as stderr is."""
    env = env_for(tmp_path / "h", SIGNOFF_DEMO="1", PYTHONIOENCODING="ascii")
    said = signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", "restart api", env=env)
    assert said.returncode == 0 and "Traceback" not in said.stderr, said.stderr
    assert "\\u250c approval needed: restart_service" in said.stdout, said.stdout
    session = next((tmp_path / "h" / "sessions").glob("*/sess_*")).name
    traced = signoff("trace", session, env=env)
    assert traced.returncode == 0 and "Traceback" not in traced.stderr, traced.stderr
    assert session in traced.stdout
    # audit's lines stay JSON there: 🛑 as "\ud83d\uded1", never Python's "\U0001f6d1".
    (approval,) = {w for w in said.stdout.split() if w.startswith("appr_")}
    denied = signoff("deny", approval, "--as", "U0BOB", "--reason", "🛑 not now…", env=env)
    assert denied.returncode == 0, denied.stderr
    audited = signoff("audit", env=env)
    assert audited.returncode == 0, audited.stderr
    (line,) = audited.stdout.splitlines()
    assert json.loads(line)["reasons"] == ["U0BOB: 🛑 not now…"], line
