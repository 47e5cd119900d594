"""``signoff run`` with more tools than OpenAI takes in a request (128): a real MCP server
offering 136 (the SDK's ``MCPServer``), the real OpenAI adapter against the fake Chat
Completions server, LocalSlack. Start-up logs one warning saying so and how to narrow;
a mention fails in its thread with the same, and nothing reaches the model's API."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from ops_kit import FakeOpenAI, RunProcess
from signoff_e2e_kit import bot_reply, mention

from bot.config import Settings
from localslack import LocalSlack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tooling"))

from mcp_fixture_kit import stdio_command, write_config

NARROW = "narrow them with include or exclude in [mcp.servers.NAME] of SIGNOFF_CONFIG"


@pytest.fixture
async def model() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as api:
        yield api


async def test_run_warns_once_at_start_up_and_a_turn_says_the_limit(
    slack: LocalSlack, settings: Settings, model: FakeOpenAI, tmp_path: Path
) -> None:
    command = stdio_command(tmp_path / "calls.jsonl", probes=130)
    config = write_config(
        tmp_path / "signoff.toml",
        f'[mcp.servers.ops]\ncommand = {command}\nexclude = ["delete_*"]\n',
    )
    run = RunProcess(
        slack,
        settings.home,
        tmp_path / "logs",
        http_port=0,  # not asked: an ephemeral port, never one taken meanwhile
        SIGNOFF_MODEL="openai:gpt-4o",
        OPENAI_BASE_URL=model.base_url,
        SIGNOFF_CONFIG=str(config),
        SIGNOFF_DEMO="0",
        SIGNOFF_LOG_FORMAT="json",
    )
    try:
        await run.connected(slack)
        thread = await mention(slack, "status of the probes")
        said = await bot_reply(
            slack, thread, "OpenAI takes at most 128 tools in a request, and 136 are offered"
        )
        assert NARROW in said["text"]
        run.terminate()
        assert await run.exit_code(timeout=20) == 0, run.stderr()
    finally:
        run.kill()
    assert model.requests == []  # the API would have refused it: never sent
    lines = run.log_lines()
    counted = [line for line in lines if "tools offered" in line["event"]]
    assert [(line["level"], line["event"]) for line in counted] == [
        (
            "warning",
            "136 tools offered (136 from MCP server ops): over the 128 OpenAI takes in a "
            f"request, so every model call would fail; {NARROW}",
        )
    ]
    [failed] = [line for line in lines if line["event"] == "model_error"]
    assert failed["error"] == "TooManyToolsError"
