"""A real MCP server (the SDK's ``MCPServer``) answering a call with a JSON-RPC error of
its own numbered -32000 or -32001: the numbers the SDK gives its own "connection closed"
and "timed out", and that JSON-RPC leaves to servers (-32000 is many toolkits' generic
server error). The server's answer is what the thread is told, and the server that gave
it is kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from mcp_fixture_kit import records, stdio_command
from test_mcp_tools import OTHER, approved, ask

from agent_core.surface import RecordingSurface
from agent_core.tools import ToolNotRun
from agent_core.tools.mcp_server import McpServer
from agent_core.tools.mcp_spec import McpServerSpec
from agent_core.tools.output import OUTPUT_LIMIT
from sessions import Home

if TYPE_CHECKING:
    from conftest import SignoffFactory


@pytest.mark.parametrize("code", [-32000, -32001])
@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_a_servers_error_numbered_like_the_sdks_own_is_the_servers_answer(
    open_signoff: SignoffFactory,
    home: Home,
    record: Path,
    surface: RecordingSurface,
    ops_config_with: Callable[..., Path],
    transport: str,
    code: int,
) -> None:
    # Read as the SDK's own: "the connection broke during the call (the server
    # stopped?)" and a stdio server restarted, or "did not answer within 10s" for an
    # answer that came at once.
    engine = await open_signoff(ops_config_with(transport, coded=True))
    asked = f"call ops__rollout deployment=api code={code}"
    status, content = await approved(engine, home, surface, asked, "ops__rollout")
    assert status == "uncertain", content  # it failed while it ran: maybe partly done
    assert "rollout of api failed upstream" in content
    assert "broke" not in content and "did not answer" not in content, content

    await ask(engine, "call ops__get_pods namespace=prod", "1700000000.000200", thread=OTHER)
    assert len(records(record, "get_pods")) == 1
    assert len({r["pid"] for r in records(record)}) == 1  # the same server answers
    assert len(records(record, "rollout")) == 1


@pytest.mark.parametrize("code", [-32603, -32602])
async def test_a_servers_error_of_megabytes_is_told_cut_like_a_result(
    open_signoff: SignoffFactory,
    home: Home,
    record: Path,
    surface: RecordingSurface,
    ops_config_with: Callable[..., Path],
    code: int,
) -> None:
    # A result is cut to what a model reads; an error's words went whole into the thread's
    # transcript, the trace and every later model request of the thread (2 MB here).
    engine = await open_signoff(ops_config_with("stdio", coded=True))
    asked = f"call ops__rollout_loudly deployment=api code={code}"
    status, content = await approved(engine, home, surface, asked, "ops__rollout_loudly")
    assert status == ("uncertain" if code == -32603 else "error"), content[:300]
    assert "rollout failed: <!channel> EEE" in content
    assert len(content) < OUTPUT_LIMIT + 500, len(content)
    assert "more characters cut" in content
    assert len(records(record, "rollout_loudly")) == 1


async def test_a_listing_refused_with_megabytes_of_words_is_down_in_one_short_line(
    record: Path, tmp_path: Path
) -> None:
    # Why a server is down is logged, told to the model ("not run: …") and shown on a card:
    # it was the first line of the server's error, however long (2 MB here).
    command = json.loads(stdio_command(record, coded=True))
    server = McpServer("ops", McpServerSpec(command=tuple(command), timeout="10s"))
    await server.start()
    try:
        assert await server.ensure() is None
        record.with_name(record.name + ".unlist").touch()
        reason = await server.ensure()
        assert reason is not None and "listing failed: <!here> LLL" in reason, reason
        assert len(reason) < 1100, len(reason)
        with pytest.raises(ToolNotRun) as refused:
            await server.call("rollout", {"deployment": "api", "code": 1}, approval_id="a")
        assert len(str(refused.value)) < 1200
    finally:
        await server.aclose()
    assert records(record, "rollout") == []
