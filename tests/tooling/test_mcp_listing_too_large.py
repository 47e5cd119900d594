"""A stdio MCP server whose tool listing is too large to read is said to be down for that.

signoff reads a line of a server's stdout up to ``LINE_LIMIT`` (32 MiB) and closes the
connection past it; a call answered so is reported as too large, but a listing was
reported as "the connection closed (the server exited?)": an operator looked for a crash
that never happened. The server is the real SDK's (``ops_mcp_server.py --bulky``).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from agent_core.tools.mcp_server import McpServer
from agent_core.tools.mcp_spec import McpServerSpec

HERE = Path(__file__).parent


async def test_a_listing_over_the_line_limit_is_down_as_too_large(
    logs: io.StringIO, tmp_path: Path
) -> None:
    command = (sys.executable, str(HERE / "ops_mcp_server.py"), "--record", str(tmp_path / "r"))
    spec = McpServerSpec(command=(*command, "--bulky", "33"), timeout="30s")
    server = McpServer("ops", spec, health_interval=3600)
    try:
        await server.start()
        status = server.status()
    finally:
        await server.aclose()
    why = "its tool listing is over 32 MiB, too large to read"
    assert status.startswith(f"MCP server ops is down: {why}"), status
    said = [line for line in logs.getvalue().splitlines() if "is down" in line]
    assert len(said) == 1 and why in said[0], said
    assert "exited" not in logs.getvalue()
