"""A real MCP server (the SDK's ``MCPServer``) answering a call with a JSON-RPC error of
its own numbered -32000 or -32001: the numbers the SDK gives its own "connection closed"
and "timed out", and that JSON-RPC leaves to servers (-32000 is many toolkits' generic
server error). The server's answer is what the thread is told, and the server that gave
it is kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from mcp_fixture_kit import records
from test_mcp_tools import OTHER, approved, ask

from agent_core.surface import RecordingSurface
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
