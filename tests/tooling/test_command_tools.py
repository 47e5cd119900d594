"""Command tools: an argv from the config, never a shell; injection attempts stay inert or
are refused; the timeout kills the whole process group; output is capped for the model and
kept whole beside the trace; a minimal environment with the approval id."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from engine_support import THREAD, message, transcript
from mcp_fixture_kit import alive, toml_str, write_config
from pydantic import SecretStr

from agent_core.messages import ToolResultMessage
from agent_core.surface import RecordingSurface
from agent_core.tools import ToolContext, ToolError, ToolOutcomeUnknown
from agent_core.tools.base import schema_version
from agent_core.tools.command import CommandTool
from agent_core.tools.output import OUTPUT_LIMIT, clip_text, mask_secrets, output_path
from agent_core.tools.specs import CommandSpec
from bot.config_file import load_config
from bot.errors import ConfigError
from sessions import Home, check_http_url

if TYPE_CHECKING:
    from conftest import SignoffFactory


ECHO = "import json, sys; print(json.dumps(sys.argv[1:]))"


def command(argv: list[str], **params: Any) -> CommandTool:
    spec = CommandSpec(description="test", argv=tuple(argv), params=params, timeout="5s")
    return CommandTool(name="t", spec=spec)


def context(tmp_path: Path, approval_id: str = "") -> ToolContext:
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    return ToolContext(
        home=tmp_path,
        session_id="sess_000000000001",
        workspace_path=workspace,
        thread=THREAD,
        requester="U0ALICE",
        approval_id=approval_id,
        call_id="call_1",
    )


def argv_printed(report: str) -> list[str]:
    stdout = report.split("--- stdout", 1)[1].split("\n", 1)[1].split("\n--- stderr")[0]
    parsed: list[str] = json.loads(stdout)
    return parsed


@pytest.mark.parametrize(
    "value",
    ["; rm -rf /", "$(touch pwned)", "`touch pwned`", "a b c", "x' || touch pwned '", "*"],
)
async def test_shell_syntax_reaches_the_program_as_one_inert_argument(
    tmp_path: Path, value: str
) -> None:
    tool = command([sys.executable, "-c", ECHO, "--note", "{note}", "x/{note}"], note={})
    report = await tool.call(tool.validate({"note": value}), context(tmp_path))
    assert report.startswith("exit code 0")
    assert argv_printed(report) == ["--note", value, f"x/{value}"]
    assert not any(tmp_path.rglob("pwned"))


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("a\nb", "control characters"),
        ("a\x00b", "control characters"),
        ("a\x85b", "control characters"),  # NEL: a line break to some programs
        ("a\u2028b", "control characters"),  # LINE SEPARATOR
        ("-rf", "would be read as an option"),
        ("--kubeconfig=/tmp/x", "would be read as an option"),
    ],
)
def test_newlines_and_would_be_options_are_refused(value: str, why: str) -> None:
    tool = command([sys.executable, "-c", ECHO, "{note}"], note={})
    with pytest.raises(ValueError, match=why):
        tool.validate({"note": value})


def test_a_value_after_double_dash_may_start_with_a_dash_and_patterns_refuse_the_rest() -> None:
    tool = command([sys.executable, "-c", ECHO, "--", "{note}"], note={})
    assert tool.argv(tool.validate({"note": "-x"}))[-1] == "-x"
    strict = command(["kubectl", "get", "{name}"], name={"pattern": "^[a-z0-9-]{1,63}$"})
    for bad in ("; rm -rf /", "$(id)", "API", "a" * 64):
        with pytest.raises(ValueError, match=r"invalid arguments for t: name: .* does not match"):
            strict.validate({"name": bad})
    enum = command(["kubectl", "-n", "{ns}"], ns={"enum": ["prod", "staging"]})
    with pytest.raises(ValueError, match="is not one of"):
        enum.validate({"ns": "kube-system"})
    with pytest.raises(ValueError, match="Additional properties"):
        enum.validate({"ns": "prod", "extra": "x"})
    assert enum.argv(enum.validate({"ns": "prod"})) == ["kubectl", "-n", "prod"]


async def test_exit_code_and_stderr_are_in_the_result(tmp_path: Path) -> None:
    tool = command([sys.executable, "-c", "import sys; print('half'); sys.exit('broken: {{x}}')"])
    with pytest.raises(ToolError) as failed:
        await tool.call({}, context(tmp_path))
    text = str(failed.value)
    assert text.startswith("exit code 1")
    assert "half" in text and "broken: {x}" in text  # {{ }} are literal braces


async def test_a_command_killed_by_a_signal_midway_is_uncertain_not_failed(
    tmp_path: Path,
) -> None:
    # Killed from outside (the OOM killer, an operator's kill -9) after half its work: it
    # never said it failed, so its outcome is unknown, as for a server that died mid-call.
    # "exit code -9" as an error let the model read "it failed" and simply try again.
    script = "import os, signal; print('deleted 3 of 7 pods', flush=True); os.kill(os.getpid(), 9)"
    tool = command([sys.executable, "-c", script])
    with pytest.raises(ToolOutcomeUnknown) as unknown:
        await tool.call({}, context(tmp_path))
    text = str(unknown.value)
    assert "killed by signal 9 (SIGKILL)" in text and "may have done part of its work" in text
    assert "deleted 3 of 7 pods" in text


async def test_the_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "open(sys.argv[1], 'w').write('%d %d' % (os.getpid(), child.pid))\n"
        "time.sleep(600)\n"
    )
    spec = CommandSpec(
        description="hangs", argv=(sys.executable, "-c", script, str(pids)), timeout="1s"
    )
    tool = CommandTool(name="hang", spec=spec)
    started = time.monotonic()
    with pytest.raises(
        ToolOutcomeUnknown, match="timed out after 1s; its process group was killed"
    ):
        await tool.call({}, context(tmp_path))
    assert time.monotonic() - started < 10
    leader, child = map(int, pids.read_text().split())
    for _ in range(250):  # killed, then reaped by whoever is its parent
        if not alive(leader) and not alive(child):
            break
        await asyncio.sleep(0.02)
    assert not alive(leader) and not alive(child), "a process of the group survived"


async def test_a_command_whose_output_runs_away_is_killed_before_it_fills_the_disk(
    tmp_path: Path,
) -> None:
    # `yes` would write gigabytes within its timeout into the session's workspace.
    spec = CommandSpec(description="chatty", argv=("yes", "signoff"), timeout="60s")
    tool = CommandTool(name="t", spec=spec)
    tool.output_limit = 1 << 20
    started = time.monotonic()
    with pytest.raises(ToolOutcomeUnknown, match="its output passed 1 MiB") as killed:
        await tool.call({}, context(tmp_path))
    assert time.monotonic() - started < 10  # not its 60 s timeout
    assert "signoff\nsignoff" in str(killed.value)  # what it said is still shown
    kept = sorted((tmp_path / "workspace" / "tool-output").iterdir())
    sizes = [p.stat().st_size for p in kept]
    await asyncio.sleep(0.3)
    assert [p.stat().st_size for p in kept] == sizes  # nothing writes there any more


async def test_a_command_that_removes_its_kept_output_is_not_cut_short(tmp_path: Path) -> None:
    # A command that cleans its working directory (the workspace) removes tool-output/
    # with it. The runaway check must not turn that into a crash that kills it mid-way
    # (and reports "error" for a call that was cut while it ran); nor may its report: a
    # FileNotFoundError for a call that ran and exited 0 read as "failed, try again".
    tool = command(["sh", "-c", "rm -rf tool-output; echo cleaned; sleep 0.6; touch finished"])
    report = await tool.call({}, context(tmp_path))
    assert (tmp_path / "workspace" / "finished").exists(), "killed before it finished"
    assert report.startswith("exit code 0") and "cleaned" in report, report
    assert "removed" in report, report  # the kept file is gone: say so, not where it is


async def test_output_over_the_cap_is_kept_whole_beside_the_trace(tmp_path: Path) -> None:
    tool = command([sys.executable, "-c", "print('x' * 50000); print('end')"])
    report = await tool.call({}, context(tmp_path))
    assert "--- stdout (50005 bytes)" in report
    assert "the whole output is in workspace/tool-output/t-call_1.stdout" in report
    assert len(report) < 8000
    kept = tmp_path / "workspace" / "tool-output" / "t-call_1.stdout"
    assert kept.read_text() == "x" * 50000 + "\nend\n"


async def test_a_minimal_environment_plus_env_and_the_approval_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNOFF_TEST_SECRET", "do-not-leak")
    spec = CommandSpec(
        description="env",
        argv=(sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"),
        env={"KUBECONFIG": "/etc/kube/config"},
    )
    tool = CommandTool(name="env", spec=spec)
    report = await tool.call({}, context(tmp_path, approval_id="appr_0123456789abcdef"))
    env = json.loads(report.split("\n")[2])
    env.pop("LC_CTYPE", None)  # some Pythons set it for the child on their own
    assert set(env) == {
        "PATH", "HOME", "LANG", "PYTHONSAFEPATH", "KUBECONFIG", "SIGNOFF_APPROVAL_ID",
        "SIGNOFF_SESSION_ID",
    }  # fmt: skip
    assert env["SIGNOFF_APPROVAL_ID"] == "appr_0123456789abcdef"
    assert env["KUBECONFIG"] == "/etc/kube/config"


@pytest.mark.parametrize(
    "url", ["http://[::1/mcp", "http://127.0.0.1:99999/mcp", "http://:80/mcp", "ftp://x/mcp"]
)
def test_an_mcp_url_no_client_could_call_is_a_config_error(tmp_path: Path, url: str) -> None:
    # It passed the check, and the server was then "down" for as long as signoff ran
    # ("InvalidURL: Invalid port", "OverflowError: port must be 0-65535").
    path = write_config(tmp_path / "c.toml", f'[mcp.servers.ops]\nurl = "{url}"\n')
    with pytest.raises(ConfigError, match=r"c\.toml: mcp\.servers\.ops\.url: ") as failed:
        load_config(path, {})
    assert repr(url) in str(failed.value)


def test_an_mcp_command_with_a_nul_is_a_config_error(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.toml", '[mcp.servers.ops]\ncommand = ["srv\\u0000"]\n')
    with pytest.raises(ConfigError, match=r"mcp\.servers\.ops: command holds a NUL"):
        load_config(path, {})


def test_an_mcp_url_in_an_error_keeps_its_password_out() -> None:
    with pytest.raises(ValueError, match="http://…@") as failed:
        check_http_url("http://ops:hunter2@[::1/mcp", example="x")
    assert "hunter2" not in str(failed.value)


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ('argv = ["kubectl", "{nope}"]', "argv uses {nope}, which is not in params"),
        ('argv = ["kubectl"]\nparams.x = {type = "string"}', "params.x is not used in argv"),
        ('argv = ["kubectl", "a}b"]', "a lone '}'"),
        ('argv = ["{x}"]\nparams.x = {}', "argv[0], the program, must be fixed text"),
        ('argv = ["k", "{x}"]\nparams.x = {pattern = "("}', "is not a regular expression"),
        ('argv = ["k", "{x}"]\nparams.x = {type = "integer", pattern = "1"}', "strings only"),
        ('argv = ["k"]\ntimeout = "soon"', "not a duration"),
        # "a request may wait at most 365d", said of a command's timeout.
        ('argv = ["k"]\ntimeout = "400d"', "timeout: '400d': at most 365d"),
        ('argv = ["k"]\nshell = true', "commands.c.shell: unknown key"),
        ("argv = []", "at least 1 item"),
        ('argv = ["k"]\nenv = { "A-B" = "1" }', "'A-B' is not an environment variable name"),
        # A default or an enum value its own parameter refuses: the program would be given
        # what the schema (and the model, which is shown it) says cannot be.
        ('argv = ["k", "{x}"]\nparams.x = {type = "integer", default = "zz"}', "default 'zz'"),
        ('argv = ["k", "{x}"]\nparams.x = {pattern = "^[a-z]+$", default = "A B"}', "default"),
        ('argv = ["k", "{x}"]\nparams.x = {enum = ["a", "b"], default = "c"}', "default 'c'"),
        ('argv = ["k", "{x}"]\nparams.x = {type = "integer", enum = [1, "two"]}', "enum 'two'"),
        ('argv = ["k", "{x}"]\nparams.x = {type = "number", minimum = nan}', "finite number"),
        ('argv = ["k", "{x}"]\nparams.x = {type = "number", default = inf}', "finite number"),
        # A string or a number for a boolean was taken: "false" as False (so the command
        # ran with no approval), 1 as True; and a string or true for a number.
        ('argv = ["k"]\nrequires_approval = "false"', "requires_approval: Input should be"),
        ('argv = ["k"]\nrequires_approval = 0', "requires_approval: Input should be"),
        ('argv = ["k", "{x}"]\nparams.x = {max_length = true}', "max_length: Input should be"),
        ('argv = ["k", "{x}"]\nparams.x = {type = "number", minimum = "5"}', "minimum"),
        # A boolean was read as 1: "enum 1 does not fit", naming a value nobody wrote.
        ('argv = ["k", "{x}"]\nparams.x = {enum = [true]}', "enum True does not fit"),
        # Bounds no value meets: taken, then every call was refused.
        (
            'argv = ["k", "{x}"]\nparams.x = {type = "integer", minimum = 10, maximum = 1}',
            "minimum 10 is above maximum 1: no value fits",
        ),
        (
            'argv = ["k", "{x}"]\nparams.x = {min_length = 5, max_length = 2}',
            "min_length 5 is above max_length 2: no value fits",
        ),
        # Taken, then every call failed: "ValueError: embedded null byte".
        ('argv = ["echo", "a\\u0000b"]', "NUL"),
        ('argv = ["ec\\u0000ho"]', "NUL"),
        ('argv = ["echo"]\nenv = { X = "a\\u0000b" }', "NUL"),
        # Taken, then every call failed "No such file or directory": a command runs in its
        # session's workspace, where no relative path leads, and no shell expands `~`.
        ('argv = ["./scripts/restart.sh"]', "'./scripts/restart.sh' is a relative path"),
        ('argv = ["bin/restart"]', "relative path"),
        ('argv = ["~/bin/restart"]', "no shell expands '~'"),
    ],
)
def test_bad_command_tables_are_one_line_errors(tmp_path: Path, table: str, error: str) -> None:
    path = write_config(tmp_path / "c.toml", f'[commands.c]\ndescription = "d"\n{table}\n')
    with pytest.raises(ConfigError, match=r"c\.toml: commands\.c") as failed:
        load_config(path, {})
    assert error in str(failed.value)
    assert "\n" not in str(failed.value)


async def test_a_gated_command_runs_once_after_approval_with_its_approval_id(
    open_signoff: SignoffFactory, tmp_path: Path, home: Home, surface: RecordingSurface
) -> None:
    out = tmp_path / "restarts.log"
    script = (
        "import os, sys; "
        "open(sys.argv[1], 'a').write(sys.argv[2] + ' ' + os.environ['SIGNOFF_APPROVAL_ID'] + chr(10))"
    )
    config = write_config(
        tmp_path / "signoff.toml",
        "[commands.rollout_restart]\n"
        'description = "Restart a Kubernetes deployment"\n'
        f'argv = [{toml_str(sys.executable)}, "-c", {toml_str(script)}, {toml_str(out)},'
        ' "deployment/{deployment}"]\n'
        'params.deployment = { type = "string", pattern = "^[a-z0-9-]{1,63}$" }\n',
    )
    engine = await open_signoff(config)
    await engine.ingest(message("call rollout_restart deployment=api", ts="1700000000.000100"))
    await engine.idle()
    (card,) = surface.cards
    assert not out.exists()
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    assert out.read_text() == f"deployment/api {card.id}\n"
    (result,) = [m for m in transcript(home) if isinstance(m, ToolResultMessage)]
    assert result.status == "ok" and result.content.startswith("exit code 0")


def test_the_version_an_approval_pins_covers_what_the_command_runs() -> None:
    # An approval pins the tool's version; a call whose tool changed since does not run.
    # For a command, the argv is what runs: an operator's edit of it between the request
    # and the approval must not run something nobody approved.
    base = command(["kubectl", "rollout", "restart", "deployment/{name}"], name={})
    same = command(["kubectl", "rollout", "restart", "deployment/{name}"], name={})
    moved = command(["kubectl", "delete", "deployment/{name}"], name={})
    assert base.version == same.version
    assert moved.version != base.version
    # Not the schema-only version approvals pinned before: those are refused, never run.
    assert base.version != schema_version(base.schema)
    spec = CommandSpec(
        description="test", argv=("env",), timeout="5s", env={"TOKEN": SecretStr("one")}
    )
    rotated = CommandSpec(
        description="test", argv=("env",), timeout="5s", env={"TOKEN": SecretStr("two")}
    )
    # A rotated secret is not a different command (and a version never hashes a secret).
    assert CommandTool(name="t", spec=spec).version == CommandTool(name="t", spec=rotated).version


def token_command(name: str, script: str, *args: str) -> str:
    """A ``[commands.<name>]`` table: Python runs ``script`` with OPS_TOKEN in its env."""
    argv = ", ".join(toml_str(a) for a in (sys.executable, "-c", script, *args))
    return (
        f'[commands.{name}]\ndescription = "{name}"\nargv = [{argv}]\n'
        'env = { OPS_TOKEN = "${OPS_TOKEN}" }\nrequires_approval = false\n'
    )


async def test_a_secret_a_command_prints_is_masked_everywhere_but_its_kept_output(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    home: Home,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `curl -v` echoes the Authorization header it sends; a failing script prints its
    # settings. The token then went to the model's provider, the transcript, the trace
    # and the thread: env values are secrets (docs/tools.md), wherever they come back.
    token = "s3cr3t-Tok3n-42"
    monkeypatch.setenv("OPS_TOKEN", token)
    show = (
        "import os, sys; t = os.environ['OPS_TOKEN']; print('auth: Bearer ' + t); "
        "sys.argv[1] == 'fail' and sys.exit('failed with Bearer ' + t)"
    )
    config = write_config(
        tmp_path / "signoff.toml",
        token_command("ok", show, "pass") + token_command("fails", show, "fail"),
    )
    engine = await open_signoff(config)
    await engine.ingest(message("call ok", ts="1700000000.000100"))
    await engine.ingest(message("call fails", ts="1700000000.000200"))
    await engine.idle()
    results = {m.name: m for m in transcript(home) if isinstance(m, ToolResultMessage)}
    assert results["ok"].status == "ok" and "auth: Bearer ***" in results["ok"].content
    assert results["fails"].status == "error"
    assert "failed with Bearer ***" in results["fails"].content
    kept = [p for p in home.root.rglob("*") if p.is_file() and "tool-output" in p.parts]
    assert any(token in p.read_text(errors="replace") for p in kept)  # kept whole, as written
    for path in home.root.rglob("*"):
        if path.is_file() and "tool-output" not in path.parts:
            assert token.encode() not in path.read_bytes(), path


async def test_a_secret_the_output_limit_cuts_through_is_not_shown_in_part(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    home: Home,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Output was cut to its first 6,000 characters, then masked: a token that straddled
    # the cut was no longer whole, so its first half went to the model and the thread.
    token = "s3cr3t-Tok3n-4242-abcdefghijklmnop"
    monkeypatch.setenv("OPS_TOKEN", token)
    show = f"import os; print('x' * {OUTPUT_LIMIT - 10}, os.environ['OPS_TOKEN'], 'y' * 200)"
    config = write_config(tmp_path / "signoff.toml", token_command("dump", show))
    engine = await open_signoff(config)
    await engine.ingest(message("call dump", ts="1700000000.000100"))
    await engine.idle()
    (result,) = [m for m in transcript(home) if isinstance(m, ToolResultMessage)]
    assert result.status == "ok" and "cut" in result.content
    assert token[:9] not in result.content, result.content[-200:]


def test_a_clip_masks_a_secret_before_it_cuts() -> None:
    # What an MCP tool's long result goes through: the same cut, the same rule.
    secret = "s3cr3t-Tok3n-4242-abcdefghijklmnop"
    text = "x" * (OUTPUT_LIMIT - 10) + " " + secret + " " + "y" * 200
    clipped = clip_text(text, secrets=[secret])
    assert secret[:9] not in clipped and clipped.startswith("x" * 100)
    assert "more characters cut" in clipped


def test_masking_takes_secrets_not_the_settings_beside_them() -> None:
    """Every env value was masked, and every word of one: a namespace or a region came
    back as *** inside any word holding it ("***ize" for "productionize"), and a numeric
    setting turned a JSON answer into invalid JSON. Masked: header values and env values
    whose names say they are secret, whole and at word boundaries."""
    spec = CommandSpec.model_validate(
        {
            "description": "d",
            "argv": ["/bin/true"],
            "env": {
                "NAMESPACE": "production",
                "ACCOUNT": "123456789012",
                "KUBECONFIG": "/etc/kube/config",
                "OPS_TOKEN": "s3cr3t-Tok3n-42",
                "DB_PASSWORD": "hunter2hunter2",
            },
        }
    )
    assert sorted(spec.secrets) == ["hunter2hunter2", "s3cr3t-Tok3n-42"]
    out = mask_secrets(
        '{"id": 123456789012, "ns": "production", "note": "productionize", '
        '"auth": "Bearer s3cr3t-Tok3n-42", "pw": "hunter2hunter2"}',
        spec.secrets,
    )
    assert json.loads(out) == {
        "id": 123456789012,
        "ns": "production",
        "note": "productionize",
        "auth": "Bearer ***",
        "pw": "***",
    }
    # A header's token is masked when quoted alone, without its scheme; a word that only
    # contains a secret's text is not that secret.
    header = ("Bearer sk-live-0123456789",)
    assert mask_secrets("invalid key: sk-live-0123456789.", header) == "invalid key: ***."
    assert mask_secrets("xsk-live-0123456789x", header) == "xsk-live-0123456789x"
    # A short password is masked whole (the docs promise the whole value); its words
    # stay apart from the 8-character rule, so "Bearer" alone is never masked.
    assert mask_secrets("login app:hunter2 ok", ("hunter2",)) == "login app:*** ok"
    assert mask_secrets("Bearer abc", ("Bearer abc",)) == "***"
    assert mask_secrets("Bearer x", ("Bearer abcdefghi",)) == "Bearer x"


def test_calls_whose_ids_differ_only_where_a_file_name_cannot_keep_separate_files(
    tmp_path: Path,
) -> None:
    # A model chooses its call ids: "a:b" and "a;b", or two long ones that differ only
    # past the cut, became one file name, and the second call's output replaced the first.
    def kept(call_id: str) -> Path:
        return output_path(tmp_path, tool="t", call_id=call_id, stream="stdout")

    assert kept("a:b") != kept("a;b")
    assert kept("x" * 130 + "1") != kept("x" * 130 + "2")
    assert kept("call_0aa6edfe8f45").name == "t-call_0aa6edfe8f45.stdout"  # as it always was
    assert all(len(kept(i).name) < 140 for i in ("a:b", "x" * 500))


async def test_the_timeout_gives_the_program_its_grace_to_clean_up(tmp_path: Path) -> None:
    # docs/tools.md: at the timeout the group gets SIGTERM, then SIGKILL 2 s later. The
    # guard leads the group and got that SIGTERM too: it died of it at once, and its exit
    # read as the command's end, so the group was SIGKILLed within milliseconds and a
    # program cleaning up on SIGTERM (a lock file, a half-done rollout) never finished.
    cleaned = tmp_path / "cleaned"
    script = (
        f"trap 'sleep 0.5; echo done > {cleaned}; exit 3' TERM; "
        "echo ready; while :; do sleep 0.05; done"
    )
    spec = CommandSpec(description="cleans up", argv=("sh", "-c", script), timeout="1s")
    tool = CommandTool(name="t", spec=spec)
    with pytest.raises(ToolOutcomeUnknown, match="timed out after 1s") as unknown:
        await tool.call({}, context(tmp_path))
    assert cleaned.read_text() == "done\n", "SIGKILLed before its grace was up"
    assert "ready" in str(unknown.value)


async def test_a_secret_glued_to_a_one_letter_option_is_masked(tmp_path: Path) -> None:
    # A script traced with `set -x` prints each command it runs, and a client's password
    # goes glued to its option (`mysql -pPASSWORD`, `sshpass -pPASSWORD`): "-p" made the
    # secret part of a longer word, which masking left as written, in the trace and thread.
    spec = CommandSpec(
        description="traced",
        argv=("sh", "-c", 'set -x; true -u app -p"$DB_PASSWORD" -P"$DB_PASSWORD" --x'),
        env={"DB_PASSWORD": "hunter2hunter2"},
    )
    report = await CommandTool(name="t", spec=spec).call({}, context(tmp_path))
    assert report.endswith("+ true -u app -p*** -P*** --x")
    # Still a word of its own: a longer word that only holds the text is left.
    assert mask_secrets("x-phunter2hunter2 a-bhunter2hunter2", ("hunter2hunter2",)) == (
        "x-phunter2hunter2 a-bhunter2hunter2"
    )
