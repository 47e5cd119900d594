"""Command tools and their configuration under attack and misuse: what a value turns into
on the command line, a process the command leaves behind, a secret with ``$$`` in it."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest
from engine_support import EngineFactory, message, text, transcript
from mcp_fixture_kit import alive, write_config
from test_command_tools import command, context

from agent_core.messages import EventMessage
from agent_core.model import ModelReply, RawToolCall
from agent_core.scripted import ScriptedModel
from agent_core.surface import RecordingSurface
from agent_core.tools import ToolError, ToolNotRun, ToolRegistry
from agent_core.tools.command import CommandTool
from agent_core.tools.kept_pipe import KeptPipe
from agent_core.tools.specs import CommandSpec, parse_template
from bot.config_file import load_config
from sessions import Home

ECHO = "import json, sys; print(json.dumps(sys.argv[1:]))"


def test_an_integer_parameter_reaches_the_program_as_an_integer() -> None:
    # JSON schema's "integer" accepts 3.0; the program must still read `3`, not `3.0`
    # (kubectl scale --replicas=3.0 fails; other programs may read it differently).
    spec = CommandSpec(
        description="scale",
        argv=("kubectl", "scale", "--replicas={replicas}"),
        params={"replicas": {"type": "integer", "minimum": 1, "maximum": 10}},
    )
    tool = CommandTool(name="scale", spec=spec)
    assert tool.argv(tool.validate({"replicas": 3.0})) == ["kubectl", "scale", "--replicas=3"]


def test_dollar_dollar_stays_in_a_secret_unless_it_starts_a_literal_brace(
    tmp_path: Path,
) -> None:
    # docs/tools.md: `$${` is a literal `${`. A token that merely contains `$$` (common
    # in generated passwords) must reach the server as written, not with one `$` gone.
    path = write_config(
        tmp_path / "signoff.toml",
        "[mcp.servers.ops]\ncommand = ['x']\n"
        "env = { PASSWORD = 'pa$$word', LITERAL = '$${HOME}', TOKEN = '${TOKEN}' }\n",
    )
    env = load_config(path, {"TOKEN": "t$$k"}).mcp.servers["ops"].env
    assert env["LITERAL"].get_secret_value() == "${HOME}"
    assert env["TOKEN"].get_secret_value() == "t$$k"  # never expanded twice
    assert env["PASSWORD"].get_secret_value() == "pa$$word"


@pytest.mark.parametrize(
    "launch",
    [
        pytest.param("", id="in-its-group"),
        # It leaves the command's process group (setsid, as a daemon does, or `ssh -f`),
        # so no kill of that group reaches it; it still holds the command's stdout.
        pytest.param("setsid ", id="out-of-its-group"),
    ],
)
async def test_a_process_the_command_leaves_behind_cannot_touch_the_sealed_session(
    make_engine: EngineFactory,
    home: Home,
    tmp_path: Path,
    surface: RecordingSurface,
    launch: str,
) -> None:
    # `inventory` (no approval) starts a helper in the background and exits at once; the
    # helper writes to the command's stdout later, after the session that asked for a
    # gated `restart` in the same turn was sealed. That session must still be trusted:
    # either the helper went with its command, or what it wrote is not the session's.
    go, helper_pid = tmp_path / "go", tmp_path / "helper.pid"
    helper = f"echo $$ > {helper_pid}; while [ ! -e {go} ]; do sleep 0.05; done; echo late"
    inventory = CommandSpec(
        description="inventory",
        argv=("sh", "-c", f"{launch}sh -c '{helper}' & while [ ! -s {helper_pid} ]; do "
                          "sleep 0.01; done; echo early"),
        requires_approval=False,
    )  # fmt: skip
    restart = CommandSpec(description="restart", argv=(sys.executable, "-c", ECHO, "api"))
    registry = ToolRegistry(
        [CommandTool(name="inventory", spec=inventory), CommandTool(name="restart", spec=restart)]
    )
    both = ModelReply(
        tool_calls=(
            RawToolCall(id="call_inv", name="inventory", arguments="{}"),
            RawToolCall(id="call_rst", name="restart", arguments="{}"),
        ),
        stop_reason="tool_use",
    )
    model = ScriptedModel([both, text("asked"), text("done")], repeat_last=True)
    engine = await make_engine(model, registry)
    await engine.ingest(message("take inventory, then restart", ts="1700000000.000100"))
    await engine.idle()
    (card,) = surface.cards
    pid = int(helper_pid.read_text())
    go.touch()
    for _ in range(500):
        if not alive(pid):
            break
        await asyncio.sleep(0.02)
    assert not alive(pid)

    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    (outcome,) = [
        m for m in transcript(home) if isinstance(m, EventMessage) and "`restart`" in m.text
    ]
    assert outcome.status == "ok", outcome.text


def test_a_pattern_written_without_anchors_must_still_match_the_whole_value() -> None:
    # A careless `pattern = "[a-z0-9-]{1,63}"` (no ^…$) matches somewhere inside almost
    # anything: JSON schema's pattern searches. What the operator meant is the value.
    spec = CommandSpec(
        description="get",
        argv=("kubectl", "get", "deployment/{name}"),
        params={"name": {"pattern": "[a-z0-9-]{1,63}"}},
    )
    tool = CommandTool(name="get", spec=spec)
    assert tool.argv(tool.validate({"name": "api"}))[-1] == "deployment/api"
    for bad in ("api; rm -rf /", "../../secrets", "API-api", "a" * 64):
        with pytest.raises(ValueError, match=r"invalid arguments for get: name: .* whole"):
            tool.validate({"name": bad})
    with pytest.raises(ValueError, match="default 'x y'"):
        CommandSpec(
            description="get",
            argv=("k", "{name}"),
            params={"name": {"pattern": "[a-z]+", "default": "x y"}},
        )


async def test_output_that_cannot_be_kept_never_blocks_the_command(tmp_path: Path) -> None:
    # A full disk (here /dev/full, which answers every write with ENOSPC): the program's
    # output is read and dropped, so it runs on and exits, never blocked on a full pipe
    # until its timeout and then reported uncertain.
    with open("/dev/full", "wb", buffering=0) as full:
        pipe = KeptPipe(full)
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", "import sys; sys.stdout.write('x' * (4 << 20))",
                stdout=pipe.write_fd,
            )  # fmt: skip
            pipe.started()
            async with asyncio.timeout(20):
                assert await proc.wait() == 0
        finally:
            pipe.close()
    assert pipe.lost


@pytest.mark.parametrize(
    "argv",
    [
        ["sh", "-c", "kubectl get deployment {name}"],
        ["/bin/bash", "-ec", "echo {name}"],
        ["sudo", "-u", "ops", "bash", "-lc", "systemctl restart {name}"],
        ["python3", "-c", "import os; os.system('systemctl restart {name}')"],
        ["/usr/bin/python3.11", "-Sc", "print('{name}')"],
        ["perl", "-e", "system('restart {name}')"],
        ["node", "-e", "require('child_process').execSync('restart {name}')"],
        # A user's shell, the command after the user (su's operands and options mix).
        ["su", "ops", "-c", "systemctl restart {name}"],
        ["runuser", "-u", "ops", "--", "sh", "-c", "restart {name}"],
        ["runuser", "-l", "ops", "--command", "restart {name}"],
        ["pwsh", "-NoProfile", "-Command", "Restart-Service {name}"],
        ["powershell", "-c", "Restart-Service {name}"],
        ["php", "-r", "system('restart {name}');"],
        ["fish", "-c", "restart {name}"],
        ["lua", "-e", "os.execute('restart {name}')"],
        # sed's script (its `e` command runs a shell; `w` writes a file) and awk's program
        # (system()): after -e / --expression / --source, or as the first operand.
        ["sed", "-e", "s/{name}/x/", "file"],
        ["sed", "-n", "s/x/{name}/p", "file"],
        ["sed", "-i", "--", "s/x/{name}/"],
        ["gsed", "--expression", "s/x/{name}/"],
        ["awk", '{{print "{name}"}}', "file"],
        ["gawk", "-F:", "-v", "n=1", 'BEGIN {{system("{name}")}}'],
        ["gawk", "--source", 'BEGIN {{system("{name}")}}'],
        # Read as getopt reads them: the code in the option's own element, a long option
        # by a prefix, a value after a clustered valued option (-euo pipefail), mawk -W.
        ["sed", "--expression=s/{name}/x/", "file"],
        ["sed", "--expr", "s/{name}/x/", "file"],
        ["sed", "-es/{name}/x/", "file"],
        ["sed", "-nes/{name}/x/p", "file"],
        ["gawk", '--source=BEGIN {{system("{name}")}}'],
        ["mawk", "-W", "interactive", '{{system("{name}")}}'],
        ["bash", "-euo", "pipefail", "-c", "restart {name}"],
        ["su", "ops", "--comm", "restart {name}"],
        ["python3", "-cprint('{name}')"],
        # A shell's code is its first operand after all its options, -c anywhere among
        # them (bash -c -e CODE, -co pipefail CODE, -c -- CODE); bash's --rcfile and
        # --init-file take a file first.
        ["bash", "--rcfile", "/etc/ops.rc", "-c", "restart {name}"],
        ["bash", "--init-file", "/etc/ops.rc", "-c", "restart {name}"],
        ["bash", "-c", "-e", "restart {name}"],
        ["bash", "-co", "pipefail", "restart {name}"],
        ["sh", "-c", "--", "restart {name}"],
        ["env", "VAR=1", "sh", "-c", "restart {name}"],
        ["fish", "--command", "restart {name}"],
        ["fish", "-C", "restart {name}"],
        # Code options a program takes again: each is code, not only the first.
        ["sed", "-e", "s/a/b/", "-e", "s/x/{name}/", "file"],
        ["perl", "-e", "use strict;", "-e", "system('restart {name}')"],
        ["node", "-e", "1", "-e", "require('child_process').execSync('restart {name}')"],
        ["node", "-pe", "require('child_process').execSync('restart {name}')"],
        ["gawk", "--source", "BEGIN {{}}", "--source", 'BEGIN {{system("{name}")}}'],
        # gawk's -W NAME is --NAME; -Z takes a locale.
        ["gawk", "-W", 'source=BEGIN {{system("{name}")}}'],
        ["gawk", '-Wsource=BEGIN {{system("{name}")}}'],
        ["gawk", "-W", "source", 'BEGIN {{system("{name}")}}'],
        ["gawk", "-Z", "C", 'BEGIN {{system("{name}")}}'],
        # Programs that hand a string to a shell (flock -c, script -c) or split it into a
        # command line themselves (env -S).
        ["flock", "/run/deploy.lock", "-c", "restart {name}"],
        ["flock", "-w", "10", "/run/deploy.lock", "--command", "restart {name}"],
        ["script", "-q", "-c", "restart {name}", "/dev/null"],
        ["env", "-S", "kubectl rollout restart {name}"],
        ["/usr/bin/env", "-iS", "restart {name}"],
        # Other shells and interpreters by their own names: csh's, a restricted bash, PyPy.
        ["tcsh", "-c", "restart {name}"],
        ["/bin/csh", "-fc", "restart {name}"],
        ["rbash", "-c", "restart {name}"],
        ["yash", "-c", "restart {name}"],
        ["oksh", "-c", "restart {name}"],
        ["pypy3", "-c", "import os; os.system('restart {name}')"],
        # An option's value as the next element: node reads `--name value` for most of its
        # own, ruby its -r, -C and -E; that value is no script, and the -e after it runs.
        [
            "node",
            "--input-type",
            "module",
            "-e",
            "import('child_process').then(c => c.execSync('{name}'))",
        ],
        ["node", "--env-file", "/etc/ops.env", "-e", "require('child_process').execSync('{name}')"],
        ["node", "-C", "production", "-p", "require('child_process').execSync('{name}')"],
        ["ruby", "-r", "json", "-e", "system('restart {name}')"],
        ["ruby", "-C", "/srv", "-e", "system('restart {name}')"],
        # FreeBSD env's -P (a search path), -L and -U (a user) take a value before -S.
        ["env", "-P", "/usr/local/bin", "-S", "restart {name}"],
        ["env", "-U", "ops", "-S", "restart {name}"],
    ],
)
def test_a_free_text_placeholder_inside_a_shells_script_is_a_start_up_error(
    argv: list[str],
) -> None:
    # Inside `sh -c '…{name}…'` a value is shell code, not one inert argument: a model's
    # `api; rm -rf /` would run. The docs' promise holds only for an argument of its own.
    # So for code an interpreter runs (`python -c`, `perl -e`).
    with pytest.raises(ValueError, match=r"where a value is code.*\$1"):
        CommandSpec(description="d", argv=tuple(argv), params={"name": {}})


def test_a_placeholder_a_shell_gets_as_an_argument_or_one_held_to_a_set_is_fine() -> None:
    safe = [
        (("sh", "-c", 'kubectl get deployment "$1"', "sh", "{name}"), {}),  # "$1": inert
        (("sh", "-c", "systemctl restart {name}"), {"enum": ["api", "web"]}),
        (("sh", "-c", "systemctl restart {name}"), {"pattern": "[a-z]+"}),
        (("sh", "-c", "scale --replicas={n}"), {"type": "integer"}),
        (("kubectl", "get", "{name}"), {}),
        (("python3", "-c", "import sys; print(sys.argv[1])", "{name}"), {}),
        (("python3", "tool.py", "-c", "{name}"), {}),  # a script's own -c option
        (("su", "-", "{name}"), {}),  # a user name, not code
        (("php", "script.php", "-r", "{name}"), {}),
        (("sed", "-e", "s/a/b/", "{name}"), {}),  # a file sed reads, after its script
        (("sed", "-f", "edit.sed", "{name}"), {}),  # the script is a file
        (("sed", "s/a/b/", "{name}"), {}),
        (("awk", "-f", "report.awk", "{name}"), {}),
        (("awk", "-v", "who={name}", "{{print who}}", "file"), {}),  # a variable: data
        (("sed", "-e", "s/x/{name}/"), {"pattern": "[a-z]+"}),
        (("sed", "--file=edit.sed", "{name}"), {}),  # the script file, named with =
        (("sed", "-fedit.sed", "{name}"), {}),
        (("sed", "-nf", "edit.sed", "{name}"), {}),
        (("sed", "-i.bak", "-s", "-z", "--posix", "s/a/b/", "{name}"), {}),
        (("awk", "--file=report.awk", "{name}"), {}),
        (("gawk", "-f", "lib.awk", "-f", "report.awk", "{name}"), {}),
        (("mawk", "-W", "exec", "report.awk", "{name}"), {}),  # -W exec: a script file
        (("sed", "-e", "s/a/b/", "-e", "s/c/d/", "{name}"), {}),
        (("bash", "-c", "-e", 'restart "$1"', "sh", "{name}"), {}),
        (("python3", "-c", "import sys", "-c", "{name}"), {}),  # python's argv after -c
        (("perl", "-e", "print @ARGV", "{name}"), {}),
        (("node", "-e", "console.log(process.argv[1])", "{name}"), {}),
        (("node", "--no-warnings", "/opt/tool.js", "{name}"), {}),
        (("ruby", "-r", "json", "/opt/tool.rb", "-e", "{name}"), {}),  # the script's -e
        (("flock", "-w", "10", "/run/deploy.lock", "systemctl", "restart", "{name}"), {}),
        (("env", "-u", "X", "-C", "/srv", "kubectl", "get", "{name}"), {}),
        (("script", "-q", "-c", "true", "{name}"), {}),  # the typescript file
    ]
    for argv, param in safe:
        spec = CommandSpec(description="d", argv=argv, params={next(iter(_names(argv))): param})
        assert spec.argv == argv


def _names(argv: tuple[str, ...]) -> list[str]:
    return [n for e in argv for kind, n in parse_template(e) if kind == "param"]


@pytest.mark.parametrize(
    "argv",
    [
        ["kubectl", "exec", "deploy/api", "--", "rm", "{file}"],
        ["sudo", "--", "git", "checkout", "{file}"],
        ["ssh", "db1", "--", "rm", "-v", "{file}"],
    ],
)
def test_a_double_dash_before_another_program_does_not_free_that_programs_options(
    argv: list[str],
) -> None:
    # The `--` ends the options of the program before it (kubectl, sudo, ssh): the program
    # it runs reads its own options again, so `-rf` would reach `rm` as one.
    tool = CommandTool(name="t", spec=CommandSpec(description="d", argv=tuple(argv),
                                                   params={"file": {}}))  # fmt: skip
    with pytest.raises(ValueError, match="would be read as an option"):
        tool.validate({"file": "-rf"})
    ends_rms_options = [*argv[:-1], "--", argv[-1]]
    tool = CommandTool(name="t", spec=CommandSpec(description="d", argv=tuple(ends_rms_options),
                                                   params={"file": {}}))  # fmt: skip
    assert tool.argv(tool.validate({"file": "-rf"}))[-1] == "-rf"


def test_an_option_the_operator_lists_as_a_value_is_passed() -> None:
    # A start-up-valid enum (or default) of options, e.g. kubectl's --dry-run modes, is the
    # operator's own choice, not a model's value turned into an option: refusing it at
    # every call made the tool unusable.
    spec = CommandSpec(
        description="apply",
        argv=(sys.executable, "-c", ECHO, "{dry_run}", "{mode}"),
        params={
            "dry_run": {"enum": ["--dry-run=server", "--dry-run=none"]},
            "mode": {"default": "--wait", "pattern": "--?[a-z]+"},
        },
    )
    tool = CommandTool(name="apply", spec=spec)
    checked = tool.validate({"dry_run": "--dry-run=server"})
    assert tool.argv(checked)[-2:] == ["--dry-run=server", "--wait"]
    with pytest.raises(ValueError, match="would be read as an option"):
        tool.validate({"dry_run": "--dry-run=none", "mode": "-force"})  # not the operator's


async def test_a_value_too_long_for_one_argument_is_refused_before_anyone_approves_it(
    tmp_path: Path,
) -> None:
    # Linux takes at most 128 KiB in one argument (MAX_ARG_STRLEN, its NUL included). A
    # longer value (the model's arguments may be 256 KiB) passed every check, was put on a
    # card and approved, and only then failed to start ("Argument list too long"): an
    # approval spent on a call that could never run, recorded as a call that ran and failed.
    tool = command([sys.executable, "-c", "import sys; print(len(sys.argv[1]))", "{x}"], x={})
    longest = (128 << 10) - 1
    with pytest.raises(ValueError, match="too long for one argument"):
        tool.validate({"x": "é" * (longest // 2 + 1)})  # counted in bytes, as the kernel does
    report = await tool.call({"x": "a" * longest}, context(tmp_path))
    assert f"\n{longest}" in report


async def plant_link(tmp_path: Path, planted: str, name: str) -> Path:
    """A command leaves a link in the workspace (a tarball or a git repository a model chose
    holds any it likes) to a file ``name`` outside it: at ``tool-output/<name>``, symbolic
    ("file") or hard ("hard", to a file of the same user), or at ``tool-output`` itself
    ("folder"); "not-a-folder" leaves a file in the folder's place. The file outside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / name
    victim.write_text("a record signoff keeps\n")
    link, target = (
        ("tool-output", outside) if planted == "folder" else (f"tool-output/{name}", victim)
    )
    make = "" if planted == "folder" else "mkdir tool-output; "
    how = "ln" if planted == "hard" else "ln -s"
    plant = f"rm -rf tool-output; {make}{how} {target} {link}"
    if planted == "not-a-folder":
        plant = "rm -rf tool-output; echo x > tool-output"
    await command(["sh", "-c", plant]).call({}, context(tmp_path))
    return victim


@pytest.mark.parametrize("planted", ["file", "folder", "hard"])
async def test_a_link_a_command_left_in_the_workspace_does_not_redirect_kept_output(
    tmp_path: Path, planted: str
) -> None:
    # The next call's kept output was opened through the links a command left: signoff
    # truncated and wrote a file outside the workspace (a record of the home, a person's
    # file) with what that call printed.
    victim = await plant_link(tmp_path, planted, "t-call_1.stdout")
    outside = victim.parent
    ctx = context(tmp_path)
    assert ctx.call_id == "call_1"
    report = await command(["echo", "what the call printed"]).call({}, ctx)
    assert "what the call printed" in report
    assert victim.read_text() == "a record signoff keeps\n"
    assert sorted(p.name for p in outside.iterdir()) == ["t-call_1.stdout"]
    kept = tmp_path / "workspace" / "tool-output" / "t-call_1.stdout"
    assert not kept.is_symlink() and kept.read_text() == "what the call printed\n"


@pytest.mark.parametrize("entry", ["", "."])
async def test_a_program_a_command_left_in_the_workspace_is_not_run_for_a_name_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    # A PATH with an empty or relative entry (`PATH=$PATH:/app` where $PATH was empty
    # gives ":/app") searches the current directory, which for a command is the
    # workspace: a program of the configured name that a command left there (a repository
    # a model chose) ran instead of the one the config names and an approver approved.
    monkeypatch.setenv("PATH", f"{entry}:{os.environ['PATH']}")
    plant = command(["sh", "-c", "printf '#!/bin/sh\\necho planted\\n' > true; chmod +x true"])
    await plant.call({}, context(tmp_path))
    assert (tmp_path / "workspace" / "true").exists()
    report = await command(["true"]).call({}, context(tmp_path))
    assert "planted" not in report


PLANT_JSON = "echo 'print(\"planted json ran\")' > json.py"


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([sys.executable, "-c", "import json; print(json.dumps([1]))"], id="-c"),
        pytest.param([sys.executable, "-m", "json.tool", "--help"], id="-m"),
    ],
)
async def test_a_module_a_command_left_in_the_workspace_is_not_imported_by_python(
    tmp_path: Path, argv: list[str]
) -> None:
    # `python3 -c` and `-m` put the current directory first on sys.path, and a command's is
    # the workspace: a `json.py` an earlier call left there (a repository or an archive a
    # model chose) ran inside an approved call in place of the standard library's, as a
    # program left there by a name on PATH did.
    await command(["sh", "-c", PLANT_JSON]).call({}, context(tmp_path))
    try:
        report = await command(argv).call({}, context(tmp_path))
    except ToolError as failed:  # what the planted module broke
        report = str(failed)
    assert "planted json ran" not in report and "exit code 0" in report


async def test_a_command_may_still_import_from_its_workspace_when_its_env_says_so(
    tmp_path: Path,
) -> None:
    # PYTHONSAFEPATH set empty is unset to Python: the operator's way back (a script that
    # imports modules beside it; a PYTHONPATH naming that folder keeps the workspace out).
    await command(["sh", "-c", PLANT_JSON]).call({}, context(tmp_path))
    spec = CommandSpec(
        description="d", argv=(sys.executable, "-c", "import json"), env={"PYTHONSAFEPATH": ""}
    )
    report = await CommandTool(name="t", spec=spec).call({}, context(tmp_path))
    assert "planted json ran" in report


async def test_a_file_a_command_left_in_the_place_of_tool_output_is_replaced(
    tmp_path: Path,
) -> None:
    # The next call raised FileExistsError making the folder, recorded as a call that ran
    # and failed (with the home's absolute path), though its program never started.
    plant = command(["sh", "-c", "rm -rf tool-output; echo x > tool-output"])
    await plant.call({}, context(tmp_path))
    report = await command(["echo", "ran"]).call({}, context(tmp_path))
    assert "ran" in report and (tmp_path / "workspace" / "tool-output").is_dir()


async def test_output_that_cannot_be_kept_is_a_call_not_run(tmp_path: Path) -> None:
    # A folder by the name of the kept file: no file can be made there, and the program
    # was never started, so the call did not run (not "failed", which says it ran).
    spec = CommandSpec(description="plant", argv=("mkdir", "-p", "tool-output/t-call_1.stdout"))
    await CommandTool(name="plant", spec=spec).call({}, context(tmp_path))
    with pytest.raises(ToolNotRun, match="could not keep its output") as not_run:
        await command(["echo", "ran"]).call({}, context(tmp_path))
    assert str(tmp_path) not in str(not_run.value)


async def test_a_path_entry_under_home_written_with_a_tilde_is_searched_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PATH=~/bin:... (a unit's Environment=, a Dockerfile's ENV, neither expanding it)
    # names the home, not the workspace: bash expands it when it searches, so a script
    # calling a helper kept in ~/bin found it. Dropped as relative, the helper was "not
    # found" though nothing of the workspace was ever searched for it.
    home = tmp_path / "home"
    (home / "bin").mkdir(parents=True)
    helper = home / "bin" / "deploy-helper"
    helper.write_text("#!/bin/sh\necho helper ran\n")
    helper.chmod(0o755)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", f"~/bin:{os.environ['PATH']}")
    report = await command(["bash", "-c", "deploy-helper"]).call({}, context(tmp_path))
    assert "helper ran" in report


@pytest.mark.skipif(shutil.which("flock") is None, reason="util-linux flock is not installed")
async def test_a_command_flock_runs_keeps_its_own_c_option(tmp_path: Path) -> None:
    # flock FILE PROGRAM ARGS... hands PROGRAM its arguments (exec, no shell): only a `-c`
    # or `--command` right after FILE is flock's, a string for a shell. One further on is
    # the program's own (`kubectl logs POD -c CONTAINER`), and its value one argument; the
    # configuration was refused at start-up as if it were code.
    echo = tmp_path / "echo_argv.py"
    echo.write_text(ECHO)
    lock = tmp_path / "deploy.lock"
    path = write_config(
        tmp_path / "signoff.toml",
        "[commands.logs]\ndescription = 'logs'\n"
        f"argv = ['flock', '{lock}', '{sys.executable}', '{echo}', 'logs', 'deploy/api', "
        "'-c', '{container}']\nparams.container = {}\n",
    )
    tool = CommandTool(name="logs", spec=load_config(path, {}).commands["logs"])
    report = await tool.call(tool.validate({"container": "app; rm -rf /"}), context(tmp_path))
    assert '["logs", "deploy/api", "-c", "app; rm -rf /"]' in report
    with pytest.raises(ValueError, match=r"code `flock -c` runs"):
        CommandSpec(description="d", argv=("flock", str(lock), "-c", "x {a}"), params={"a": {}})
