"""A server whose tool names change (a version or a date in them) is re-listed every 15 s
for months: what signoff keeps per name must follow the listing, not every name it ever
showed. The ops server with ``--rolling`` lists ``report_N`` and ``bad.N`` on its Nth
listing, and ``bad.always`` on every one (``bad.*`` is no name a model accepts)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from mcp_fixture_kit import SERVER, stdio_command

from agent_core.tools import ToolError
from agent_core.tools.mcp_server import McpServer
from agent_core.tools.mcp_spec import McpServerSpec

LISTINGS = 30


def rolling_spec(record: Path) -> McpServerSpec:
    command = json.loads(stdio_command(record))
    assert str(SERVER) in command
    return McpServerSpec(command=(*command, "--rolling"), timeout="10s")


async def test_names_a_server_no_longer_lists_are_not_kept(
    record: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="signoff.mcp")
    server = McpServer("ops", rolling_spec(record))
    try:
        for n in range(LISTINGS):  # the first connects and lists, each later one re-lists
            assert await server.ensure() is None
            offered = {t.name.removeprefix("ops__") for t in server.tools()}  # as a turn asks
            assert f"report_{n:04d}" in offered
            assert set(server._objects) == offered
            assert server._filter._skipped == {"bad.always", f"bad.{n:04d}"}
    finally:
        await server.aclose()
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    # Said once for as long as it is listed, however often it is re-read; each new name once.
    assert sum("'bad.always'" in s for s in skipped) == 1, skipped
    assert sum("'bad.0007'" in s for s in skipped) == 1, skipped


async def test_a_call_to_a_tool_that_left_the_listing_fails_closed(record: Path) -> None:
    server = McpServer("ops", rolling_spec(record))
    try:
        assert await server.ensure() is None
        (tool,) = [t for t in server.tools() if t.name.startswith("ops__report_")]
        checked = tool.version
        # In flight: checked against one listing, sent after the next, where it is gone.
        with pytest.raises(ToolError, match=r"the tool changed since the call was checked"):
            await server.call(
                tool.name.removeprefix("ops__"),
                {"namespace": "prod"},
                approval_id="",
                checked_version=checked,
            )
        assert server.get(tool.name) is None
        assert tool.version != checked  # the object a call holds reads the listing now
    finally:
        await server.aclose()
    assert not record.exists(), "a call went out to a tool no longer listed"
