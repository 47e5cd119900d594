"""One live session with an MCP server, through the official ``mcp`` SDK's ``Client``.

The SDK's client is an async context manager built on anyio task groups, which must be
entered and left by the same task; so each connection has a task of its own that holds
it open until ``close``. Calls come from any task on the same loop.

Failures mean, for a call::

    McpError (ToolError)         the server answered the call with an error that refuses it
    ServerDown (Exception)       no connection: nothing was sent
    ToolOutcomeUnknown           sent, then the connection broke or no answer came in time

A call's failure is translated once, in ``mcp_call_errors``.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from typing import Any, TextIO, cast

import anyio
import httpx2
from mcp import Client, Implementation, MCPError, StdioServerParameters
from mcp.client import Transport
from mcp.types import (
    CONNECTION_CLOSED,
    CallToolResult,
    InputRequiredResult,
    RequestParamsMeta,
)
from mcp.types import Tool as McpToolInfo
from pydantic import ValidationError

from sessions import without_credentials

from ..cancelling import cancel_and_wait
from .base import ToolOutcomeUnknown
from .mcp_call_errors import McpError, call_failure, input_required
from .mcp_http import BODY_LIMIT, HttpErrors, bounded_client, http_transport, too_large
from .mcp_open_requests import bounded_requests
from .mcp_reasons import BROKEN_CONNECTION, describe_error
from .mcp_resolve import unresolved
from .mcp_spec import McpServerSpec
from .mcp_stdio import LINE_LIMIT, Ending, stdio_transport
from .output import mask_secrets

__all__ = ["McpConnection", "McpError", "ServerDown", "describe_error"]

log = logging.getLogger("signoff.mcp")
# Pages of tools/list followed before giving up on a server that never ends its listing.
_PAGE_CAP = 100


class ServerDown(Exception):
    """The server cannot be reached; nothing was sent."""


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


async def _transport(
    name: str,
    spec: McpServerSpec,
    errlog: TextIO,
    stack: AsyncExitStack,
    errors: HttpErrors,
    ending: Ending,
) -> Transport:
    if spec.command is not None:
        params = StdioServerParameters(
            command=spec.command[0],
            args=list(spec.command[1:]),
            env={k: v.get_secret_value() for k, v in spec.env.items()},
        )
        return stdio_transport(params, name=name, errlog=errlog, ending=ending)
    assert spec.url is not None
    http = bounded_client(
        name,
        headers={k: v.get_secret_value() for k, v in spec.headers.items()},
        timeout=httpx2.Timeout(spec.timeout_seconds, read=max(300.0, spec.timeout_seconds)),
        errors=errors,
    )
    await stack.enter_async_context(http)
    return bounded_requests(http_transport(spec.url, client=http))


class McpConnection:
    def __init__(self, server: str, spec: McpServerSpec, errlog: TextIO) -> None:
        self.server = server
        self.spec = spec
        self._errlog = errlog
        self._client: Client | None = None
        self._ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
        self._stop = asyncio.Event()
        self._broken = False
        self._task: asyncio.Task[None] | None = None
        self._http_errors = HttpErrors()
        self._ending = Ending()
        self._calls = 0  # sent and not yet answered

    @classmethod
    async def open(cls, server: str, spec: McpServerSpec, *, errlog: TextIO) -> McpConnection:
        """Connect and finish the handshake, or raise ServerDown with the reason."""
        deadline = asyncio.get_running_loop().time() + spec.timeout_seconds
        if spec.url is not None:
            why = await unresolved(spec.url, within=spec.timeout_seconds, said=spec.timeout)
            if why is not None:
                raise ServerDown(why)
        conn = cls(server, spec, errlog)
        conn._task = asyncio.create_task(conn._hold(), name=f"mcp-{server}")
        try:
            async with asyncio.timeout_at(deadline):  # never swallows a cancel
                conn._client = await asyncio.shield(conn._ready)
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, asyncio.CancelledError):
                raise
            # What ended the session, when it ended only once the wait was over (the SDK
            # holds the handshake open after its reader failed, e.g. on bytes not UTF-8).
            ended = conn._ready
            if ended.done() and not ended.cancelled():
                exc = ended.exception() or exc
            raise ServerDown(describe_error(exc, http_error=conn._http_errors.last)) from None
        return conn

    async def _hold(self) -> None:
        try:
            async with AsyncExitStack() as stack:
                client = Client(
                    await _transport(
                        self.server,
                        self.spec,
                        self._errlog,
                        stack,
                        self._http_errors,
                        self._ending,
                    ),
                    cache=None,  # a listing must always be the server's answer now
                    client_info=Implementation(name="signoff", version="0.1.0"),
                )
                await stack.enter_async_context(client)
                self._ready.set_result(client)
                await self._stop.wait()
        except BaseException as exc:
            if not self._ready.done():
                if isinstance(exc, asyncio.CancelledError):
                    self._ready.cancel()
                else:
                    self._ready.set_exception(exc)
            elif not self._stop.is_set() and not isinstance(exc, asyncio.CancelledError):
                why = without_credentials(mask_secrets(describe_error(exc), self.spec.secrets))
                log.warning("MCP server %s: connection ended: %s", self.server, why)
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self._broken = True

    @property
    def running(self) -> bool:
        """Does a call sent on this connection wait for its answer?"""
        return self._calls > 0

    @property
    def alive(self) -> bool:
        return self._client is not None and not self._broken and not self._stop.is_set()

    async def close(self) -> None:
        """Leave the session: a stdio server's stdin closes and it is stopped."""
        self._stop.set()
        task = self._task
        if task is None or task.done():
            return
        if not self._ready.done():
            # Still in the handshake: nothing waits for the stop there, so it is cut now
            # (the transport's exit still stops a stdio server).
            await cancel_and_wait(task)
            return
        try:
            # The SDK's shutdown is bounded (it kills a stdio server that does not exit).
            async with asyncio.timeout(10):
                await asyncio.shield(task)
        except (TimeoutError, Exception):
            await cancel_and_wait(task)

    def _session_client(self) -> Client:
        if self._client is None or not self.alive:
            raise ServerDown("not connected")
        return self._client

    async def list_tools(self) -> list[McpToolInfo]:
        """Every tool the server advertises now, over all pages."""
        client = self._session_client()
        tools: list[McpToolInfo] = []
        cursor: str | None = None
        try:
            with anyio.fail_after(self.spec.timeout_seconds):
                for _ in range(_PAGE_CAP):
                    page = await client.list_tools(cursor=cursor)
                    tools.extend(page.tools)
                    cursor = page.next_cursor
                    if cursor is None:
                        break
                else:
                    # Never what came by then: a tool of a later page would be gone, and
                    # an approved call of it refused as no longer there.
                    self._broken = True
                    raise ServerDown(f"its tool listing did not end after {_PAGE_CAP} pages")
        except (MCPError, TimeoutError, *BROKEN_CONNECTION) as exc:
            self._broken = True
            raise ServerDown(self._listing_unread(exc)) from None
        except ValidationError as exc:
            # A listing the SDK refuses (e.g. a tool's inputSchema without "type": "object")
            # makes the server unusable, not signoff: it is down until it lists validly.
            self._broken = True
            raise ServerDown(f"its tool listing is not valid MCP: {_first_error(exc)}") from None
        return tools

    def _listing_unread(self, exc: BaseException) -> str:
        # Too large, signoff closes the connection: the session says only "Connection
        # closed", which read as a server that exited (someone looked for a crash).
        if isinstance(exc, MCPError):
            if exc.code == CONNECTION_CLOSED and self._ending.line_too_long:
                return f"its tool listing is over {LINE_LIMIT >> 20} MiB, too large to read"
            if too_large(exc.message):
                return f"its tool listing is over {BODY_LIMIT >> 20} MiB, too large to read"
        return describe_error(exc)

    async def call(
        self, name: str, arguments: dict[str, Any], *, approval_id: str
    ) -> CallToolResult:
        client = self._session_client()
        # Forwarded so a server can use it as an idempotency key, like SIGNOFF_APPROVAL_ID.
        meta = (
            cast(RequestParamsMeta, {"signoff/approval_id": approval_id}) if approval_id else None
        )
        self._calls += 1
        try:
            # The session's own call: no automatic re-send after a schema mismatch, so a
            # call never runs against a schema nobody approved.
            result = await client.session.call_tool(
                name,
                arguments,
                read_timeout_seconds=self.spec.timeout_seconds,
                meta=meta,
                allow_input_required=True,
            )
        except Exception as exc:
            failure = call_failure(
                self.server,
                exc,
                timeout=self.spec.timeout,
                line_too_long=self._ending.line_too_long,
                secrets=self.spec.secrets,
            )
            self._broken = self._broken or failure.broken
            if failure.broken and self._stop.is_set():
                # Closed by signoff (only its stop closes a connection a call waits on):
                # "the server stopped?" sent people looking for a crash.
                raise ToolOutcomeUnknown(
                    f"signoff closed its connection to MCP server {self.server} during the "
                    "call, as it stopped; the call may or may not have taken effect"
                ) from None
            raise failure.error from None
        finally:
            self._calls -= 1
        if isinstance(result, InputRequiredResult):
            raise input_required(self.server, result)
        return result
