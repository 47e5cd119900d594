"""Which of the MCP SDK's errors say the connection ended before the answer came: each
message its streamable HTTP client sends for that (mcp/client/streamable_http.py), a
failure's text over several lines included, and not a server's own error that shares the
number (-32000)."""

from __future__ import annotations

import pytest
from mcp import MCPError
from mcp.types import CONNECTION_CLOSED

from agent_core.tools.mcp_reasons import no_answer


@pytest.mark.parametrize(
    "message",
    [
        "Connection closed",
        "SSE stream ended without a response",
        "SSE stream ended and reconnection attempts were exhausted",
        "SSE stream failed: peer closed connection",
        "SSE stream failed: read error\nwhile reading the body",
    ],
)
def test_the_sdks_own_lost_answers_are_no_answer(message: str) -> None:
    assert no_answer(MCPError(code=CONNECTION_CLOSED, message=message))


def test_a_servers_own_error_with_that_number_is_its_answer() -> None:
    assert not no_answer(MCPError(code=CONNECTION_CLOSED, message="deploy refused: frozen"))
