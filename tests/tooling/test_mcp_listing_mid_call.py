"""A re-listing that fails while an approved call runs (a server too busy to list, a
gateway's 429) on a real MCP server (the SDK's ``MCPServer``): the watcher, or another
call, re-lists every few seconds. The call runs on to its end and its result is told;
the server is down for new calls meanwhile, and reconnected once the call is over."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from mcp_fixture_kit import records, stdio_command, wait_for
from test_mcp_tools import ask, final_status

from agent_core.surface import RecordingSurface
from agent_core.tools import ToolOutcomeUnknown
from agent_core.tools.mcp_server import McpServer
from agent_core.tools.mcp_spec import McpServerSpec
from sessions import Home

if TYPE_CHECKING:
    from conftest import SignoffFactory


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_a_listing_refused_mid_call_leaves_the_approved_call_to_finish(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    surface: RecordingSurface,
    transport: str,
    ops_config_with: Callable[..., Path],
) -> None:
    # The failed listing made signoff reconnect: it stopped the stdio server (and ended
    # the HTTP session) that ran the approved call. The tool never finished, and the
    # thread was told "the server stopped?", though signoff had stopped it.
    engine = await open_signoff(ops_config_with(transport, busy=True))
    (ops,) = engine.rt.registry.sources()
    assert isinstance(ops, McpServer)
    await ask(engine, "call ops__hold_restart deployment=api", "1700000000.000100")
    (card,) = surface.cards
    decided = asyncio.create_task(engine.decide(card.id, user="U0BOB", approve=True))
    for _ in range(1000):  # the server received the call, and holds it
        if records(record, "hold_restart"):
            break
        await asyncio.sleep(0.01)
    assert records(record, "hold_restart")

    for _ in range(2):  # the watcher's passes, while the call runs
        reason = await ops.ensure()
        assert reason is not None and "busy: try again later" in reason, reason
    assert ops.status().startswith("MCP server ops is down")

    record.with_name(record.name + ".go").touch()
    await decided
    await engine.idle()
    assert len(records(record, "hold_restart finished")) == 1
    status, content = final_status(home, "ops__hold_restart")
    assert (status, content) == ("ok", "deployment.apps/api restarted")
    assert await ops.ensure() is None  # once the call is over, the server is back
    assert len(records(record, "hold_restart")) == 1


async def test_a_call_cut_by_signoffs_own_stop_says_signoff_stopped_it(record: Path) -> None:
    # signoff stopping (its drain over) closes the connection a call still waits on: the
    # thread was told "the connection broke (the server stopped?)", and someone looked
    # for a crash of the server, which signoff had stopped itself.
    command = json.loads(stdio_command(record, busy=True))
    server = McpServer("ops", McpServerSpec(command=tuple(command), timeout="10s"))
    await server.start()
    call = asyncio.create_task(server.call("hold_restart", {"deployment": "api"}, approval_id="a"))
    await asyncio.to_thread(wait_for, lambda: bool(records(record, "hold_restart")), what="call")
    await server.aclose()
    with pytest.raises(ToolOutcomeUnknown) as cut:
        await call
    assert "signoff closed its connection" in str(cut.value), cut.value
    assert "may or may not have taken effect" in str(cut.value)
    assert "server stopped?" not in str(cut.value)
