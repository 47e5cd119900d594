"""The watcher of an MCP server keeps watching whatever one of its rounds meets: it is
what caps a stdio server's stderr log and what starts a server that died again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from mcp_fixture_kit import kill, noisy_spec, records

from agent_core.tools.mcp_server import McpServer


async def test_a_log_that_cannot_be_copied_aside_is_still_capped_and_the_watcher_goes_on(
    tmp_path: Path, record: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The copy to .1 fails when the disk is full, which is when the cap matters most (here
    # .1 is a directory, so the copy fails at once). The OSError ended the watcher: the log
    # grew without bound from then on, and a server that died was no longer started again
    # until a call came, all without a word in signoff's log.
    logs = tmp_path / "logs"
    (logs / "ops.stderr.log.1").mkdir(parents=True)
    server = McpServer(
        "ops", noisy_spec(tmp_path, record), log_dir=logs, health_interval=0.05, stderr_limit=50_000
    )
    await server.start()
    try:
        log = logs / "ops.stderr.log"
        for _ in range(500):
            if log.stat().st_size < 50_000:
                break
            await asyncio.sleep(0.02)
        assert log.stat().st_size < 50_000, "the log was left over its limit"
        assert "could not be copied" in caplog.text
        await server.call("get_pods", {"namespace": "a"}, approval_id="")
        first, before = records(record)[-1]["pid"], server._conn
        kill(first)
        for _ in range(500):  # no call: only the watcher can notice and start it again
            if server._conn is not before and server._conn is not None and server._conn.alive:
                break
            await asyncio.sleep(0.02)
        assert server._conn is not before, "the watcher stopped watching"
        assert server.status() == "MCP server ops is up"
    finally:
        await server.aclose()
