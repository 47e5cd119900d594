"""SIGNOFF_CONFIG, SIGNOFF_TOOLS and SIGNOFF_DEMO through the real CLI (``main``): a bad
config exits 2 with one line; a name defined twice is an error, never a traceback; the
policy may live in the config; without tools signoff starts, warns and says so."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from mcp_fixture_kit import HttpOpsServer

from bot.cli import main

README_MODULE = '''
from agent_core.tools import ToolContext, tool


@tool(requires_human_approval=lambda args: args["replicas"] > 10)
def scale_pool(pool: str, replicas: int, ctx: ToolContext) -> str:
    """Resize a worker pool.

    Args:
        pool: the pool name
        replicas: how many workers
    """
    return f"{pool} now has {replicas} workers (approval {ctx.approval_id or 'none'})"


TOOLS = [scale_pool]
'''


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SIGNOFF_POLICY", "SIGNOFF_MODEL", "SIGNOFF_CONFIG", "SIGNOFF_TOOLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SIGNOFF_DEMO", raising=False)
    monkeypatch.setenv("SIGNOFF_HOME", str(tmp_path / "home"))
    return tmp_path


def say(text: str, ts: str = "1700000000.000100") -> int:
    return main(["say", "--as", "U0ALICE", "--channel", "C0OPS", "--thread", "1700000000.000100",
                 "--ts", ts, text])  # fmt: skip


def config(env: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = env / "signoff.toml"
    path.write_text(textwrap.dedent(text))
    monkeypatch.setenv("SIGNOFF_CONFIG", str(path))
    return path


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("signoff: error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[mcp.server.ops]\ncommand = ['x']\n", "mcp.server: unknown key"),
        ("[mcp.servers.ops]\n", "give exactly one of command (stdio) or url"),
        ("[mcp.servers.ops]\ncommand = ['x']\nurl = 'http://h/mcp'\n", "exactly one of"),
        ("[mcp.servers.ops]\nurl = 'http://h/mcp'\nenv = {A = '1'}\n", "env is for stdio"),
        ("[mcp.servers.ops]\ncommand = ['x']\ntimeout = '30 seconds'\n", "not a duration"),
        ("[mcp.servers.o__ps]\ncommand = ['x']\n", "server name 'o__ps'"),
        # The policy names ops__delete_namespace; these patterns match the server's own
        # names, so this one excluded nothing, and the model was offered the tool.
        (
            "[mcp.servers.ops]\ncommand = ['x']\nexclude = ['ops__delete_*']\n",
            "ops.exclude: 'ops__delete_*' is a tool's full name (ops__…); these patterns "
            "match the server's own tool names: write 'delete_*'",
        ),
        ("[mcp.servers.ops]\ncommand = ['x']\nno_approval = ['ops__get_*']\n", "write 'get_*'"),
        (
            "[mcp.servers.ops]\ncommand = ['x']\nenv = {KUBECONFIG = '${NOT_SET_HERE}'}\n",
            "mcp.servers.ops.env.KUBECONFIG: ${NOT_SET_HERE} is not set",
        ),
        ("[mcp.servers.ops\ncommand = ['x']\n", "not valid TOML"),
        ("[policy.default]\nquorum = 0\n", "signoff.toml [policy]: default.quorum"),
        ("[policy.tools.nothing_like_this]\nquorum = 2\n", "policy names unknown tools"),
        # Only env and headers expand: the server was down for good, its host not found.
        (
            "[mcp.servers.ops]\nurl = 'https://${MCP_HOST}/mcp'\n",
            "mcp.servers.ops.url: ${MCP_HOST} does not expand in url (only in env and "
            "headers): write the URL itself",
        ),
        # A rule for a tool that never waits for an approval: quorum = 2 for ops__get_pods
        # let it run at once, with no approval and no word said. The server need not be
        # up: its no_approval patterns decide from the name alone.
        (
            "[mcp.servers.ops]\ncommand = ['no-such-mcp-server']\nno_approval = ['get_*']\n"
            "[policy.tools.ops__get_pods]\nquorum = 2\n",
            "tools.ops__get_pods: ops__get_pods never waits for an approval (the no_approval "
            "pattern 'get_*' of MCP server ops matches it), so this rule would govern "
            "nothing: remove the rule, or the exemption",
        ),
        (
            "[commands.uptime]\ndescription = 'Uptime'\nargv = ['uptime']\n"
            "requires_approval = false\n[policy.tools.uptime]\napprovers = ['U0BOB']\n",
            "tools.uptime: uptime never waits for an approval (requires_approval = false in "
            "[commands.uptime]), so this rule would govern nothing",
        ),
    ],
)
def test_a_bad_config_exits_2_with_one_line(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    error: str,
) -> None:
    config(env, monkeypatch, text)
    assert say("hello") == 2
    assert error in one_line_error(capsys)


def test_a_broken_tools_module_is_one_line_too(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "broken_tools.py").write_text(
        README_MODULE.replace("TOOLS = [scale_pool]", "TOOLS = [x]")
    )
    monkeypatch.syspath_prepend(str(env))
    monkeypatch.setenv("SIGNOFF_TOOLS", "broken_tools")
    assert say("hello") == 2
    assert one_line_error(capsys) == (
        "signoff: error: SIGNOFF_TOOLS: importing broken_tools failed: "
        "NameError: name 'x' is not defined"
    )


def test_a_tools_module_that_exits_as_it_is_imported_is_one_line(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # sys.exit(3) at import (a script made a module) ended signoff with status 3, silently.
    (env / "exiting_tools.py").write_text("import sys\nsys.exit(3)\n")
    monkeypatch.syspath_prepend(str(env))
    monkeypatch.setenv("SIGNOFF_TOOLS", "exiting_tools")
    assert say("hello") == 2
    assert one_line_error(capsys) == (
        "signoff: error: SIGNOFF_TOOLS: importing exiting_tools failed: it called sys.exit(3)"
    )


def test_a_named_config_that_does_not_exist_and_a_bad_demo_flag(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGNOFF_CONFIG", str(env / "missing.toml"))
    assert say("hello") == 2
    assert "SIGNOFF_CONFIG: no such file" in one_line_error(capsys)
    monkeypatch.delenv("SIGNOFF_CONFIG")
    monkeypatch.setenv("SIGNOFF_DEMO", "maybe")
    assert say("hello") == 2
    assert "SIGNOFF_DEMO: use 1 or 0" in one_line_error(capsys)


def test_a_tool_defined_twice_is_a_config_error(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGNOFF_DEMO", "1")
    path = config(
        env,
        monkeypatch,
        """
        [commands.restart_service]
        description = "restart"
        argv = ["true"]
        """,
    )
    assert say("hello") == 2
    assert one_line_error(capsys) == (
        "signoff: error: tool 'restart_service' is defined twice: by the demo fleet and by "
        f"[commands.restart_service] in {path}; rename one"
    )

    monkeypatch.delenv("SIGNOFF_CONFIG")
    (env / "twice_tools.py").write_text(README_MODULE.replace("scale_pool]", "scale_pool] * 2"))
    monkeypatch.syspath_prepend(str(env))
    monkeypatch.setenv("SIGNOFF_TOOLS", "twice_tools")
    assert say("hello") == 2
    assert "tool 'scale_pool' is defined twice: by SIGNOFF_TOOLS module twice_tools and by " in (
        one_line_error(capsys)
    )


def test_a_tool_in_an_mcp_servers_namespace_is_refused(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "clash_tools.py").write_text(README_MODULE.replace("scale_pool", "ops__scale"))
    monkeypatch.syspath_prepend(str(env))
    monkeypatch.setenv("SIGNOFF_TOOLS", "clash_tools")
    config(env, monkeypatch, "[mcp.servers.ops]\ncommand = ['/nonexistent/ops-mcp']\n")
    assert say("hello") == 2
    assert (
        "'ops__scale' (SIGNOFF_TOOLS module clash_tools) is in the namespace of MCP server ops"
        in (one_line_error(capsys))
    )


def test_the_policy_in_the_config_governs_and_twice_is_an_error(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGNOFF_DEMO", "1")
    config(env, monkeypatch, "[policy.tools.restart_service]\nquorum = 2\n")
    assert say("<@U0BOT> restart api") == 0
    assert "approval needed: restart_service" in capsys.readouterr().out
    assert main(["pending"]) == 0
    approval = capsys.readouterr().out.split()[0]
    assert main(["approve", approval, "--as", "U0BOB"]) == 0
    out = capsys.readouterr().out
    assert "vote counted: 1 of 2 approvals" in out
    assert "approval needed" not in out  # the card's update is not a new request

    policy = env / "policy.toml"
    policy.write_text("[default]\nquorum = 1\n")
    monkeypatch.setenv("SIGNOFF_POLICY", str(policy))
    assert main(["approve", approval, "--as", "U0CAROL"]) == 2
    assert "the policy is given twice: SIGNOFF_POLICY=" in one_line_error(capsys)


def test_without_tools_signoff_starts_warns_and_says_so(
    env: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    assert say("<@U0BOT> restart api") == 0  # no SIGNOFF_DEMO: no demo fleet
    captured = capsys.readouterr()
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert "no tools are configured (SIGNOFF_CONFIG, SIGNOFF_TOOLS" in warning.getMessage()
    assert "no tools are available to me right now, so I cannot look at" in captured.out
    assert "approval needed" not in captured.out


def test_the_default_config_file_and_the_readme_tools_module(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "readme_tools.py").write_text(README_MODULE)
    monkeypatch.syspath_prepend(str(env))
    monkeypatch.setenv("SIGNOFF_TOOLS", "readme_tools")
    home = env / "home"
    home.mkdir()
    # $SIGNOFF_HOME/signoff.toml is read without SIGNOFF_CONFIG when it exists.
    (home / "signoff.toml").write_text("[policy.default]\nexpires_after = '2d'\n")
    assert say("<@U0BOT> call scale_pool pool=batch replicas=3") == 0
    assert "batch now has 3 workers (approval none)" in capsys.readouterr().out
    assert say("<@U0BOT> call scale_pool pool=batch replicas=20", "1700000000.000200") == 0
    out = capsys.readouterr().out
    assert "approval needed: scale_pool(pool='batch', replicas=20)" in out
    assert main(["pending"]) == 0
    approval = capsys.readouterr().out.split()[0]
    (capsule,) = [
        json.loads(p.read_text()) for p in home.glob(f"sessions/*/*/approvals/{approval}.json")
    ]
    waits = datetime.fromisoformat(capsule["expires_at"]) - datetime.fromisoformat(
        capsule["created_at"]
    )
    assert waits == timedelta(days=2)  # the config's [policy.default]
    assert main(["approve", approval, "--as", "U0BOB"]) == 0
    assert f"batch now has 20 workers (approval {approval})" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("s3cr3t-token\n", "a line break"),  # a secret mounted from a file keeps its newline
        ("s3cr3t-token\r\nX-Injected: 1", "a line break"),
        ("s3cr3t-token ", "starts or ends with whitespace"),
        ("s3cr3t-tøken", "only printable ASCII"),
    ],
)
def test_a_header_value_no_request_can_carry_is_a_config_error_that_keeps_the_secret(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    http_ops: HttpOpsServer,
    token: str,
    why: str,
) -> None:
    # Accepted before: the server was then "down" for as long as signoff ran, and the
    # reason shown in the log (and in the thread, for an approved call deferred on it)
    # was the HTTP library's error, which quotes the header: the token itself.
    monkeypatch.setenv("OPS_TOKEN", token)
    config(
        env,
        monkeypatch,
        f"""
        [mcp.servers.ops]
        url = "{http_ops.url}"
        headers = {{ Authorization = "Bearer ${{OPS_TOKEN}}" }}
        """,
    )
    code = say("hello")
    err = capsys.readouterr().err
    assert "s3cr3t" not in err + caplog.text
    assert code == 2
    assert "mcp.servers.ops.headers.Authorization" in err and why in err


@pytest.mark.parametrize(
    ("table", "where"),
    [
        pytest.param("[mcp.servers.ops]\ncommand = ['x']\nenv = { OPS_TOKEN = '${OPS_TOKEN}' }\n",
                     "mcp.servers.ops.env.OPS_TOKEN", id="server-env"),
        pytest.param("[mcp.servers.ops]\nurl = 'http://127.0.0.1:9/mcp'\n"
                     "headers = { X-Api-Key = '${OPS_TOKEN}' }\n",
                     "mcp.servers.ops.headers.X-Api-Key", id="header"),
        pytest.param("[commands.c]\ndescription = 'c'\nargv = ['true']\n"
                     "env = { OPS_TOKEN = '${OPS_TOKEN}' }\n", "commands.c.env.OPS_TOKEN",
                     id="command-env"),
    ],
)  # fmt: skip
def test_a_variable_set_but_empty_is_a_config_error_too(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    table: str,
    where: str,
) -> None:
    # `OPS_TOKEN=` (an environment file with the line left blank) made the server start
    # with no token, or send an empty API key header, and fail far from the cause.
    monkeypatch.setenv("OPS_TOKEN", "")
    config(env, monkeypatch, table)
    assert say("hello") == 2
    assert f"{where}: ${{OPS_TOKEN}} is empty in signoff's environment" in one_line_error(capsys)
