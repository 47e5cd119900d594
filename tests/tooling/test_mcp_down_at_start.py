"""An HTTP MCP server that cannot be reached when signoff starts is said to be down, with
why, in one line: never "still starting" (which tells an operator to wait), and never the
credentials of its URL.

The servers are real sockets on loopback: a port nothing listens on, a plain-HTTP server
asked for TLS, a server answering every request with an HTTP error or a redirect."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from loopback_ports import free_port

from agent_core.tools.mcp_server import McpServer
from agent_core.tools.mcp_spec import McpServerSpec

SECRET = "s3cr3t-pw-q7"


class _Answers(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        status = int(self.path.split("/")[1])
        self.send_response(status)
        if status == 307:
            self.send_header("location", f"http://op:{SECRET}@127.0.0.1:1/mcp")
        self.send_header("content-length", "0")
        self.end_headers()

    do_GET = do_POST

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def plain_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("where", "why"),
    [
        ("refused", "connection refused"),
        ("tls", "TLS failed: wrong version number"),
        ("500", "it answered HTTP 500 Internal Server Error"),
        ("401", "it answered HTTP 401 Unauthorized"),
        ("307", "MCPError: Redirect to http://127.0.0.1:1/mcp not followed"),
    ],
)
async def test_a_server_down_at_start_is_said_down_with_why(
    logs: io.StringIO, plain_port: int, where: str, why: str
) -> None:
    if where == "refused":
        url = f"http://op:{SECRET}@127.0.0.1:{free_port()}/mcp"
    elif where == "tls":
        url = f"https://op:{SECRET}@127.0.0.1:{plain_port}/500/mcp"
    else:
        url = f"http://op:{SECRET}@127.0.0.1:{plain_port}/{where}/mcp"
    server = McpServer("ops", McpServerSpec(url=url, timeout="5s"), health_interval=3600)
    try:
        await server.start()
        status = server.status()
    finally:
        await server.aclose()
    said = [line for line in logs.getvalue().splitlines() if "MCP server ops" in line]
    assert len(said) == 1, said
    assert f"MCP server ops is down: {why}" in said[0] and "its tools are offered" in said[0]
    assert status.startswith(f"MCP server ops is down: {why}"), status
    assert SECRET not in logs.getvalue() and SECRET not in status
