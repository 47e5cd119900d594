"""What an MCP call's failure says of the call, said once, for the model and the card.

Whatever the SDK raised for ``tools/call`` becomes one of::

    McpError (ToolError)         the server answered with an error that refuses the call
                                 (a tool may raise one after its work: never "not run")
    ToolOutcomeUnknown           sent, then the connection broke, no answer came in time,
                                 the answer could not be read, or the server failed while
                                 handling it: it may or may not have taken effect

``mcp_reasons`` tells the SDK's errors apart; the connection (``mcp_connection``) only
raises what this gives, and drops a connection it says is spent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mcp import MCPError
from mcp.types import InputRequiredResult

from sessions import without_credentials

from .base import ToolError, ToolOutcomeUnknown
from .mcp_http import BODY_LIMIT, too_large
from .mcp_reasons import (
    BROKEN_CONNECTION,
    REFUSALS,
    answer_unusable,
    asked_mid_call,
    asked_text,
    describe_error,
    http_answer,
    no_answer,
    waited_out,
)
from .mcp_stdio import LINE_LIMIT
from .output import OUTPUT_LIMIT, clip_text

__all__ = ["CallFailure", "McpError", "call_failure", "input_required"]


class McpError(ToolError):
    """The server answered the call with a JSON-RPC error that refuses it
    (``mcp_reasons.REFUSALS``): a failure, not "not run". The SDK's server passes on an
    ``MCPError`` a tool raised after it did its work, with any code, so only signoff's own
    word says nothing was sent (``ToolNotRun``: the server down, the tool changed)."""


@dataclass(frozen=True)
class CallFailure:
    """What to raise in place of what the SDK raised, and whether the connection is spent
    (the next call needs a new one)."""

    error: Exception
    broken: bool = False


def call_failure(
    server: str,
    exc: Exception,
    *,
    timeout: str,
    line_too_long: bool,
    secrets: Iterable[str] = (),
) -> CallFailure:
    """``exc``, raised by the SDK for a call to ``server`` (whose calls wait ``timeout``);
    ``line_too_long``: the stdio reader stopped at a line over its limit; ``secrets``:
    the server's, masked before its words are cut."""
    if isinstance(exc, MCPError):
        # The server's own words, bounded as a result is: an error of megabytes went whole
        # into the transcript and every later model request of the thread.
        said = clip_text(exc.message, limit=OUTPUT_LIMIT, secrets=secrets)
        exc = MCPError(code=exc.code, message=said, data=exc.data)
        return _answered(server, exc, timeout=timeout, line_too_long=line_too_long)
    if isinstance(exc, BROKEN_CONNECTION):
        return CallFailure(
            ToolOutcomeUnknown(
                f"the connection to MCP server {server} failed during the call "
                f"({describe_error(exc)}); it may or may not have taken effect"
            ),
            broken=True,
        )
    # The server answered and the SDK could not accept the answer (a result unlike the
    # tool's output schema, a malformed one): the call was handled.
    return CallFailure(
        ToolOutcomeUnknown(
            f"MCP server {server} answered the call with something unreadable "
            f"({describe_error(exc)}); it may or may not have taken effect"
        )
    )


def _answered(server: str, exc: MCPError, *, timeout: str, line_too_long: bool) -> CallFailure:
    if too_large(exc.message):
        return CallFailure(_too_large(server, BODY_LIMIT))
    if waited_out(exc):
        return CallFailure(
            ToolOutcomeUnknown(
                f"MCP server {server} did not answer within {timeout}; "
                "the call may or may not have taken effect"
            )
        )
    if no_answer(exc):
        if line_too_long:
            # Every call in flight ends so, as over HTTP only the one answered: which one
            # the line answered is unknown (it was not read), and all are uncertain.
            return CallFailure(_too_large(server, LINE_LIMIT), broken=True)
        return CallFailure(
            ToolOutcomeUnknown(
                f"the connection to MCP server {server} broke during the call "
                "(the server stopped?); it may or may not have taken effect"
            ),
            broken=True,
        )
    if answer_unusable(exc):
        return CallFailure(
            ToolOutcomeUnknown(
                f"MCP server {server} answered the call with something unreadable "
                f"({exc.message}); it may or may not have taken effect"
            )
        )
    if http_answer(exc):
        return CallFailure(
            ToolOutcomeUnknown(
                f"MCP server {server} answered the call at the HTTP level, not with "
                f"its result ({without_credentials(exc.message)}); it may or may not have "
                "taken effect"
            ),
            broken=exc.message == "Session terminated",  # a new session for the next call
        )
    asked = asked_mid_call(server, exc)
    if asked:
        return CallFailure(ToolOutcomeUnknown(asked))
    if exc.code in REFUSALS:
        return CallFailure(
            McpError(f"MCP server {server} answered the call with an error: {exc.message}")
        )
    # An internal error (or a gateway's 502, which the SDK reports as one) says nothing
    # about what the server did before it failed.
    return CallFailure(
        ToolOutcomeUnknown(
            f"MCP server {server} failed while handling the call ({exc.message}); "
            "it may or may not have taken effect"
        )
    )


def _too_large(server: str, limit: int) -> ToolOutcomeUnknown:
    return ToolOutcomeUnknown(
        f"MCP server {server} sent an answer over {limit >> 20} MiB, too large to "
        "read; the call may or may not have taken effect"
    )


def input_required(server: str, result: InputRequiredResult) -> ToolOutcomeUnknown:
    """MCP 2026's way for a tool to ask before it goes on: signoff answers nothing, and
    what the tool did before it asked stands."""
    questions = [r.method for r in (result.input_requests or {}).values()]
    return ToolOutcomeUnknown(asked_text(server, questions))
