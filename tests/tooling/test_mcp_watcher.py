"""The watcher of an MCP server keeps watching whatever one of its rounds meets: it is
what caps a stdio server's stderr log and what starts a server that died again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from mcp_fixture_kit import alive, kill, noisy_spec, records, stdio_command

from agent_core.tools.mcp_server import McpServer
from agent_core.tools.mcp_spec import McpServerSpec


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


async def test_the_watcher_says_it_keeps_a_connection_a_call_runs_on(
    record: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A listing refused while a call ran (the server too busy to list): the watcher keeps
    # the connection for the call (design notes: a failed re-listing never cuts a running
    # call short), yet its log line said "reconnecting", and an operator looked for a
    # restart that never came.
    spec = McpServerSpec(command=tuple(json.loads(stdio_command(record, busy=True))))
    server = McpServer("ops", spec, health_interval=0.05)
    await server.start()
    try:
        call = asyncio.create_task(
            server.call("hold_restart", {"deployment": "api"}, approval_id="")
        )
        for _ in range(1000):  # the server holds the call, and refuses to list meanwhile
            if records(record, "listing refused"):
                break
            await asyncio.sleep(0.01)
        assert records(record, "listing refused")
        for _ in range(1000):
            if "busy: try again later" in caplog.text:
                break
            await asyncio.sleep(0.01)
        (line,) = [r.getMessage() for r in caplog.records if "busy" in r.getMessage()]
        assert "reconnecting" not in line, line
        assert "kept for the call it runs" in line, line
        pid = records(record, "hold_restart")[-1]["pid"]
        assert alive(pid)  # not reconnected: the server still runs the call

        record.with_name(record.name + ".go").touch()
        await call
        for _ in range(1000):  # the call over, the watcher reconnects, and says so
            if "MCP server ops is back" in caplog.text:
                break
            await asyncio.sleep(0.01)
        assert "MCP server ops is back" in caplog.text
    finally:
        await server.aclose()
