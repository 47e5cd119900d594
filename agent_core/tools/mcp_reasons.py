"""Why an MCP server could not be reached or answered, in one line for an operator.

What the libraries raise says it deep down: httpx's ``ConnectError`` reads "All
connection attempts failed" over the ``ConnectionRefusedError`` that says why, and the
SDK answers any HTTP error status to the handshake with "Server returned an error
response", the status itself left out (``mcp_http.HttpErrors`` keeps it). And what an
error the SDK raised for a call says of whether the server ran it.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
from collections.abc import Iterable

import anyio
import httpx2
from mcp import MCPError
from mcp.types import (
    CONNECTION_CLOSED,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    REQUEST_TIMEOUT,
)

from sessions import without_credentials

from .output import mask_secrets

__all__ = [
    "BROKEN_CONNECTION",
    "REFUSALS",
    "answer_unusable",
    "asked_mid_call",
    "asked_text",
    "describe_error",
    "down_reason",
    "http_answer",
    "no_answer",
    "waited_out",
]

# What a connection that broke under a request raises (not the SDK's own errors).
BROKEN_CONNECTION = (
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    httpx2.TransportError,
    OSError,
)
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
    if isinstance(exc, MCPError) and no_answer(exc):
        return "the connection closed (the server exited?)"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# The SDK's own errors for a request whose answer never came (the connection or the
# answer's stream ended) or that it stopped waiting for, numbered -32000 and -32001: numbers
# JSON-RPC leaves to servers, and many toolkits' generic server error. A server's own error
# of those numbers is its answer, in other words than these.
_NO_ANSWER = re.compile(
    r"Connection closed|SSE stream (?:failed: .*|ended without a response"
    r"|ended and reconnection attempts were exhausted)",
    re.DOTALL,
)
_WAITED = re.compile(r"Request '[^']*' timed out|Timed out after \S+ waiting for .*")


def no_answer(exc: MCPError) -> bool:
    """Did the SDK give up on the answer as the connection (or its stream) ended?"""
    return exc.code == CONNECTION_CLOSED and _NO_ANSWER.fullmatch(exc.message) is not None


def waited_out(exc: MCPError) -> bool:
    """Did the SDK stop waiting for the answer (the request's timeout)?"""
    return exc.code == REQUEST_TIMEOUT and _WAITED.fullmatch(exc.message) is not None


# JSON-RPC errors by which a server refuses a request: not a valid request, no such method,
# arguments refused. Told as the server's answer, a failure; never "not run", since the
# SDK's server passes on one a tool raised after its work. Any other error came from
# handling the call and says nothing of what it did: uncertain.
REFUSALS = frozenset({INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS})
# Over HTTP the SDK also makes up errors for an answer it could not use, after the server
# took the request: PARSE_ERROR for an answer cut short or garbled (signoff only sends
# well-formed JSON, so a server has no cause to send one), and INVALID_REQUEST for
# "202 Accepted" or a body of another content type, told apart by the SDK's message.
_UNUSABLE_ANSWER = ("server answered a request with 202", "Unexpected content type")


# And for an HTTP 404 or a redirect it did not follow, the errors a server sends when it
# refuses a request (INVALID_REQUEST, METHOD_NOT_FOUND): but that is the HTTP layer's word,
# maybe a gateway's after the server took the call, not the server's verdict on it.
_HTTP_STAND_INS = frozenset({"Session terminated", "Not Found"})


# A tool may ask its client something once it has started (``ctx.elicit``, sampling,
# roots). signoff offers none of them, and the SDK's server, finding no way to send the
# question, fails the call with INVALID_REQUEST: the code that says a request was not run,
# though the tool ran up to its question (a drain that evicted the pods, then asks).
_NO_BACK_CHANNEL = re.compile(r"Cannot send '([^'\n]{1,100})': this transport context has no back")
_ASKED_FOR = {
    "elicitation/create": "a person's answer",
    "sampling/createMessage": "a model's answer",
    "roots/list": "signoff's roots (its files)",
}


def asked_mid_call(server: str, exc: MCPError) -> str:
    """How to say an error that is a tool's question signoff never answers: "" if not one."""
    found = _NO_BACK_CHANNEL.match(exc.message) if exc.code == INVALID_REQUEST else None
    return "" if found is None else asked_text(server, [found.group(1)])


def asked_text(server: str, methods: Iterable[str]) -> str:
    """A tool that asked ``methods`` of signoff after it started, which signoff does not
    answer: what it did by then stands."""
    what = "; ".join(f"{_ASKED_FOR.get(m, 'something')} ({m})" for m in sorted(set(methods)))
    return (
        f"a tool of MCP server {server} asked for {what or 'input'} after it had started, "
        "which signoff does not give; the call may or may not have taken effect"
    )


def answer_unusable(exc: MCPError) -> bool:
    return exc.code == PARSE_ERROR or (
        exc.code == INVALID_REQUEST and exc.message.startswith(_UNUSABLE_ANSWER)
    )


def http_answer(exc: MCPError) -> bool:
    return exc.code in (INVALID_REQUEST, METHOD_NOT_FOUND) and (
        exc.message in _HTTP_STAND_INS or exc.message.startswith("Redirect to ")
    )


# Characters of why a server is down: logged, told to the model, shown on a card.
_WHY_LIMIT = 1000


def down_reason(why: str, *, secrets: Iterable[str]) -> str:
    """Why a server is down, as said: logged, a call's result, told in a thread: never a
    key the server quoted as it refused it ("invalid key: Bearer sk-…"), nor the
    credentials of its URL, which a redirect's location may repeat. Cut once masked (a
    secret the cut went through would not be whole): a server's error is its words, of
    any length."""
    why = without_credentials(mask_secrets(why, secrets))
    if len(why) <= _WHY_LIMIT:
        return why
    return f"{why[:_WHY_LIMIT]}… [{len(why) - _WHY_LIMIT} more characters cut]"
