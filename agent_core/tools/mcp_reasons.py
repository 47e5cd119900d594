"""Why an MCP server could not be reached or answered, in one line for an operator.

What the libraries raise says it deep down: httpx's ``ConnectError`` reads "All
connection attempts failed" over the ``ConnectionRefusedError`` that says why, and the
SDK answers any HTTP error status to the handshake with "Server returned an error
response", the status itself left out (``mcp_http.HttpErrors`` keeps it).
"""

from __future__ import annotations

import os
import re
import socket
import ssl

from mcp import MCPError
from mcp.types import CONNECTION_CLOSED

__all__ = ["describe_error"]

# What the SDK says for an HTTP error status it found no JSON-RPC error in.
_STAND_INS = frozenset({"Server returned an error response", "Not Found", "Session terminated"})


def _cause(exc: BaseException) -> OSError | None:
    """The innermost OSError that says what went wrong (it has an errno), if any."""
    found = None
    for _ in range(20):  # a chain is short; never a loop
        if isinstance(exc, OSError) and exc.errno is not None:
            found = exc
        following = exc.__cause__ or exc.__context__
        if following is None:
            break
        exc = following
    return found


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"cannot start {exc.filename or 'the server'}: no such file"
    text = str(exc.strerror or exc)
    if isinstance(exc, ssl.SSLError):
        text = re.sub(r" \(_ssl\.c:\d+\)$", "", re.sub(r"^\[SSL: \w+\] ", "", text))
        return f"TLS failed: {text}"
    if isinstance(exc, socket.gaierror):
        return f"its host name does not resolve ({text.lower()})"
    # asyncio words a refused connection "Connect call failed ('127.0.0.1', 1)".
    if isinstance(exc.errno, int) and exc.errno > 0:
        return os.strerror(exc.errno).lower()
    return text.lower()


def describe_error(exc: BaseException, *, http_error: str = "") -> str:
    """One readable line for whatever a connection attempt raised (groups unwrapped);
    ``http_error`` is the HTTP error status the server last answered with, if any."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, MCPError) and http_error:
        said = "" if exc.message in _STAND_INS else f": {exc.message.strip()[:200]}"
        return f"it answered {http_error}{said.splitlines()[0] if said else ''}"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    cause = _cause(exc)
    if cause is not None:
        return _os_reason(cause)
    if isinstance(exc, MCPError) and exc.code == CONNECTION_CLOSED:
        return "the connection closed (the server exited?)"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
