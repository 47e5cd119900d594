"""More tools than the model's provider takes in a request (OpenAI: 128), from a real MCP
server (the SDK's ``MCPServer`` with ``--probes``) and the real ``openai`` SDK against the
fake Chat Completions server: ``signoff doctor`` says it, start-up warns once, and a turn
fails saying the limit and how to narrow, with nothing sent, also when the server's
listing grows while signoff runs."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from engine_support import THREAD, chain, message, replies
from mcp_fixture_kit import HttpOpsServer, stdio_command, write_config

from agent_core.engine import Engine
from agent_core.surface import RecordingSurface
from agent_core.tools.mcp_server import McpServer
from sessions import Home, SessionState

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "providers"))

from fake_openai import FakeOpenAI

if TYPE_CHECKING:
    from conftest import SignoffFactory

SIGNOFF = str(Path(sys.executable).with_name("signoff"))
OVER = "OpenAI takes at most 128 tools in a request, and 136 are offered"
NARROW = "narrow them with include or exclude in [mcp.servers.NAME] of SIGNOFF_CONFIG"


def _config(tmp_path: Path, transport: str, *, exclude: str = '"delete_*"') -> Path:
    # The ops server's six tools (delete_namespace excluded) and the probes.
    return write_config(
        tmp_path / "signoff.toml",
        f"[mcp.servers.ops]\n{transport}\nexclude = [{exclude}]\n",
    )


def _doctor(
    tmp_path: Path, config: Path, model: str, **more: str
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if "proxy" not in k.lower() and not k.startswith(("SIGNOFF_", "SLACK_", "OPENAI_"))
    }
    env.update(SIGNOFF_HOME=str(tmp_path / "home"), SIGNOFF_CONFIG=str(config), SIGNOFF_MODEL=model)
    env.update(more)
    return subprocess.run(
        [SIGNOFF, "doctor"], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _count_line(done: subprocess.CompletedProcess[str]) -> str:
    (line,) = [ln for ln in done.stdout.splitlines() if " tools offered (" in ln]
    return line


def test_doctor_says_the_tools_are_over_openais_limit_and_how_to_narrow(tmp_path: Path) -> None:
    record = tmp_path / "calls.jsonl"
    transport = f"command = {stdio_command(record, probes=130)}"
    done = _doctor(tmp_path, _config(tmp_path, transport), "openai:gpt-4o")
    assert done.returncode == 1
    assert _count_line(done) == (
        "problem: 136 tools offered (136 from MCP server ops): over the 128 OpenAI takes in "
        f"a request, so every model call would fail; {NARROW}"
    )
    # Narrowed as it says: probe_100 … probe_129 excluded.
    narrowed = _config(tmp_path, transport, exclude='"delete_*", "probe_1*"')
    assert _count_line(_doctor(tmp_path, narrowed, "openai:gpt-4o")) == (
        "ok: 106 tools offered (106 from MCP server ops); OpenAI takes up to 128 in a request"
    )


def test_doctor_invents_no_limit_for_anthropic(tmp_path: Path) -> None:
    transport = f"command = {stdio_command(tmp_path / 'calls.jsonl', probes=130)}"
    done = _doctor(tmp_path, _config(tmp_path, transport), "anthropic:claude-sonnet-4-6")
    assert _count_line(done) == "ok: 136 tools offered (136 from MCP server ops)"


def test_doctor_says_a_tool_module_that_does_not_import_on_its_line(tmp_path: Path) -> None:
    """Counting builds every tool as ``signoff run`` does, SIGNOFF_TOOLS modules too: one
    that does not import is a problem line like the others, not doctor's own exit 2."""
    config = _config(tmp_path, f"command = {stdio_command(tmp_path / 'calls.jsonl')}")
    env = {"SIGNOFF_TOOLS": "no_such_tools_module"}
    done = _doctor(tmp_path, config, "offline", **env)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[-1] == (
        "problem: SIGNOFF_TOOLS: cannot import no_such_tools_module: "
        "No module named 'no_such_tools_module'"
    )
    assert done.stderr == ""


@pytest.fixture
async def openai_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenAI]:
    """The fake OpenAI API, where ``SIGNOFF_MODEL=openai:…`` sends its requests."""
    async with FakeOpenAI() as api:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdefghij")
        monkeypatch.setenv("OPENAI_BASE_URL", api.base_url)
        yield api
    assert api.rejections == [], "a request the API would refuse was sent"


async def _ask(engine: Engine, ts: str) -> None:
    await engine.ingest(message("<@U0SIGNOFF> status of the probes", ts=ts))
    await engine.idle()


async def test_start_up_warns_once_and_the_turn_says_the_limit_with_nothing_sent(
    open_signoff: SignoffFactory,
    openai_api: FakeOpenAI,
    tmp_path: Path,
    home: Home,
    surface: RecordingSurface,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = _config(tmp_path, f"command = {stdio_command(tmp_path / 'calls.jsonl', probes=130)}")
    with caplog.at_level(logging.WARNING, logger="signoff"):
        engine = await open_signoff(config, model="openai:gpt-4o")
    said = [r.getMessage() for r in caplog.records if "tools offered" in r.getMessage()]
    assert said == [
        "136 tools offered (136 from MCP server ops): over the 128 OpenAI takes in a request, "
        f"so every model call would fail; {NARROW}"
    ]
    await _ask(engine, "1700000000.000100")
    assert openai_api.requests == []  # OpenAI would have refused it: never sent
    assert chain(home, THREAD)[-1].state == SessionState.FAILED
    assert OVER in replies(surface)[-1] and NARROW in replies(surface)[-1]


async def test_a_listing_that_grows_past_the_limit_fails_the_next_turn_plainly(
    open_signoff: SignoffFactory,
    openai_api: FakeOpenAI,
    tmp_path: Path,
    home: Home,
    surface: RecordingSurface,
) -> None:
    server = HttpOpsServer(tmp_path / "calls.jsonl", tmp_path, probes=100)
    try:
        engine = await open_signoff(
            _config(tmp_path, f'url = "{server.url}"'), model="openai:gpt-4o"
        )
        openai_api.reply("All 100 probes answer.")
        await _ask(engine, "1700000000.000100")
        assert len(openai_api.requests[0].body["tools"]) == 106
        assert replies(surface)[-1] == "All 100 probes answer."
        # The server now offers 30 tools more; signoff re-lists (as its watcher does).
        server.probes = 130
        server.restart()
        (ops,) = engine.rt.registry.sources()
        assert isinstance(ops, McpServer)
        assert await ops.ensure() is None
        assert len(engine.rt.registry.names()) == 136
        await _ask(engine, "1700000000.000200")
        assert len(openai_api.requests) == 1  # the second turn sent nothing
        assert OVER in replies(surface)[-1]
    finally:
        server.stop()
