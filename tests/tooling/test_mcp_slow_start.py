"""A server that hangs in its handshake holds up neither signoff's start nor its stop.

Start-up waited for every server's first connection as long as that server's ``timeout``,
which also bounds each call: a server given ``timeout = "10m"`` for a long deploy that
hung before answering ``initialize`` kept ``signoff run`` (and every CLI command) from
starting for ten minutes, and a stop waited behind the same attempt. Start-up now waits
a bounded while; the attempt goes on, and its tools are offered once it answers.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from mcp_fixture_kit import records, wrapped_spec

from agent_core.tools.mcp_server import McpServer
from agent_core.tools.mcp_spec import McpServerSpec


async def test_a_server_that_never_answers_holds_up_neither_start_nor_stop() -> None:
    hung = McpServerSpec(command=("sleep", "1000"), timeout="10m")
    server = McpServer("ops", hung, startup_wait=0.3)
    started = time.monotonic()
    await asyncio.wait_for(server.start(), 5)
    assert time.monotonic() - started < 3
    assert server.tools() == []  # nothing offered while it has not answered
    assert server.problem() == "no answer yet (still starting)"  # what doctor says
    stopping = time.monotonic()
    await asyncio.wait_for(server.aclose(), 5)
    assert time.monotonic() - stopping < 3


async def test_a_slow_server_is_not_started_again_and_is_offered_once_it_answers(
    tmp_path: Path, record: Path
) -> None:
    slow = wrapped_spec(tmp_path, record, first="time.sleep(1.5)", timeout="30s")
    server = McpServer("ops", slow, startup_wait=0.3)
    await server.start()
    try:
        assert server.tools() == []
        for _ in range(500):
            if server.tools():
                break
            await asyncio.sleep(0.02)
        assert server.tools(), server.status()
        assert server.status() == "MCP server ops is up"
        await server.call("get_pods", {"namespace": "a"}, approval_id="")
        assert len({r["pid"] for r in records(record)}) == 1  # the first attempt, kept
    finally:
        await server.aclose()
