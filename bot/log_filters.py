"""Log records of other libraries that would page an operator for nothing, kept in
proportion: said once and how often, or at the level the library itself uses for the like.
"""

from __future__ import annotations

import logging

__all__ = [
    "ClientMistakes",
    "InvalidNotifications",
    "SseChatter",
    "StdoutChatter",
    "quiet_mcp_sdk",
]


class _Seldom(logging.Filter):
    """A record the SDK repeats without bound (with a traceback), kept as one WARNING line
    for the 1st, 10th, 100th and every 1000th time, saying how many so far."""

    NOISE = ""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != self.NOISE:
            return True
        self.seen += 1
        if self.seen not in (1, 10, 100) and self.seen % 1000:
            return False
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        record.msg, record.args = self.said(record), ()
        return True

    def said(self, record: logging.LogRecord) -> str:
        raise NotImplementedError


class StdoutChatter(_Seldom):
    """The MCP SDK logs an ERROR with a traceback for every line a stdio server writes to
    stdout that is not JSON-RPC (a server left printing debug output)."""

    NOISE = "Failed to parse JSONRPC message from server"

    def said(self, record: logging.LogRecord) -> str:
        return (
            f"an MCP stdio server wrote a line to stdout that is not JSON-RPC, skipped "
            f"({self.seen} so far; servers must log to stderr)"
        )


class SseChatter(_Seldom):
    """The MCP SDK logs an ERROR with a traceback quoting the event for every SSE event an
    HTTP server sends that is not JSON-RPC, and, under the same words, for every event it
    was handing on as signoff closed the connection (its own shutdown, no parse error).
    It logs one too for a JSON answer signoff refused to read, which signoff has said."""

    NOISE = "Error parsing SSE message"

    def filter(self, record: logging.LogRecord) -> bool:
        # Here, not at the top: every command imports this module, few need anyio.
        import anyio

        from agent_core.tools.mcp_http import AnswerRefused

        error = record.exc_info[1] if isinstance(record.exc_info, tuple) else None
        closing = isinstance(error, anyio.BrokenResourceError | anyio.ClosedResourceError)
        if record.msg == self.NOISE and closing:
            return False
        if record.msg == "Error parsing JSON response" and isinstance(error, AnswerRefused):
            return False
        return super().filter(record)

    def said(self, record: logging.LogRecord) -> str:
        return f"an MCP server sent an event that is not JSON-RPC, skipped ({self.seen} so far)"


class InvalidNotifications(_Seldom):
    """The MCP SDK logs a WARNING with a traceback quoting what the server sent for every
    notification it cannot validate (a progress without its token, a log message at no
    level), and a server can send them as fast as it writes. The line names the method,
    never the server's text."""

    NOISE = "Failed to validate notification: %s"

    def said(self, record: logging.LogRecord) -> str:
        # Only a method the SDK knows fails validation: its name is the SDK's, not the server's.
        args = record.args if isinstance(record.args, tuple) else ()
        method = str(args[0])[:64] if args else "notification"
        return f"an MCP server sent a {method} that is not valid MCP, skipped ({self.seen} so far)"


class ClientMistakes(logging.Filter):
    """aiohttp's server logs a request it cannot parse (a header past 8 KiB: a browser's
    cookies for localhost, a scanner) as an ERROR with a traceback, though it answers 400:
    the client's mistake, kept at DEBUG as aiohttp keeps the commonest one (TLS to a
    plain port), not an error for an operator to be paged about."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Here, not at the top: every command imports this module, few need aiohttp.
        from aiohttp.http_exceptions import HttpProcessingError

        error = record.exc_info[1] if isinstance(record.exc_info, tuple) else None
        if not isinstance(error, HttpProcessingError) or record.levelno <= logging.DEBUG:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def quiet_mcp_sdk() -> None:
    """The MCP SDK's noise said seldom, in a line, or not at all (signoff said it): for the
    commands that set up no logging too, whose last resort printed "Error parsing JSON
    response: AnswerRefused" under doctor's own line that the listing is too large."""
    for name, kind in (
        ("mcp.client.stdio", StdoutChatter),
        ("mcp.client.streamable_http", SseChatter),
        ("client", InvalidNotifications),  # the name mcp.client.session logs under
    ):
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, kind)]:
            logger.removeFilter(old)  # one, counting from this set-up
        logger.addFilter(kind())
