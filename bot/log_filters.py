"""Log records of other libraries that would page an operator for nothing, kept in
proportion: said once and how often, or at the level the library itself uses for the like.
"""

from __future__ import annotations

import logging

__all__ = ["ClientMistakes", "StdoutChatter"]


class StdoutChatter(logging.Filter):
    """The MCP SDK logs an ERROR with a traceback for every line a stdio server writes to
    stdout that is not JSON-RPC (a server left printing debug output): kept as one
    WARNING line, for the 1st, 10th, 100th… such line, so the log says it once and how
    often, without a flood."""

    NOISE = "Failed to parse JSONRPC message from server"

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
        record.msg = (
            f"an MCP stdio server wrote a line to stdout that is not JSON-RPC, skipped "
            f"({self.seen} so far; servers must log to stderr)"
        )
        return True


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
