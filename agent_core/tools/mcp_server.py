"""An MCP server as a source of tools: connected at start-up, watched, restarted, stopped.

Its tools appear to the model as ``<server>__<tool>``, filtered by ``include`` and
``exclude`` (glob patterns over the server's own names); every tool is gated unless a
``no_approval`` pattern matches. The server's annotations are shown, never obeyed.

Life cycle: ``start`` connects once, waiting at most ``startup_wait`` (a server that is
down or slow does not hold signoff up: the attempt goes on, its tools are offered once it
answers; which of them, ``mcp_listing`` decides). A watcher re-lists the tools every
``health_interval`` seconds, which also notices a server that died; it then reconnects
(for stdio: starts the process again) with a growing back-off. A call
re-lists first (reconnecting if needed), and so does ``unavailable`` (asked by resume
before it claims an approved call), so the version an approval is checked against is the
schema the server advertises at that moment. ``aclose`` stops the watcher and the server.
"""

from __future__ import annotations

import asyncio
import logging
from fnmatch import fnmatchcase
from pathlib import Path

from mcp.types import CallToolResult
from mcp.types import Tool as McpToolInfo

from ..cancelling import cancel_and_wait
from .base import Tool, ToolNotRun, schema_version
from .log_cap import STDERR_LOG_LIMIT
from .mcp_connection import McpConnection, ServerDown
from .mcp_errlog import ServerErrlog
from .mcp_listing import ListingFilter
from .mcp_reasons import down_reason
from .mcp_spec import McpServerSpec
from .mcp_tool import UNLISTED, McpTool, pinned

__all__ = ["McpServer"]

log = logging.getLogger("signoff.mcp")
_MAX_BACKOFF = 60.0
# How long start-up waits for a server's first connection (its ``timeout`` bounds calls,
# and may be minutes): the attempt goes on after, and its tools are offered once it answers.
STARTUP_WAIT_S = 10.0


class McpServer:
    def __init__(
        self,
        name: str,
        spec: McpServerSpec,
        *,
        log_dir: Path | None = None,
        health_interval: float = 15.0,
        stderr_limit: int = STDERR_LOG_LIMIT,
        startup_wait: float = STARTUP_WAIT_S,
    ) -> None:
        self.name = name
        self.spec = spec
        self.prefix = f"{name}__"
        self.health_interval = health_interval
        self.stderr_limit = stderr_limit
        self._conn: McpConnection | None = None
        self._listing: dict[str, McpToolInfo] | None = None
        self._lock = asyncio.Lock()
        self._closed = False
        self._down = ""
        self._watcher: asyncio.Task[None] | None = None
        self._starting: asyncio.Task[None] | None = None
        self.startup_wait = startup_wait
        self._errlog = ServerErrlog(log_dir=log_dir, name=name, limit=stderr_limit)
        self._filter = ListingFilter(label=self.label, prefix=self.prefix, spec=spec)
        self._expected: frozenset[str] = frozenset()  # policy names to check when listed
        self._objects: dict[str, McpTool] = {}

    # -- ToolSource ----------------------------------------------------------------------
    @property
    def label(self) -> str:
        return f"MCP server {self.name}"

    def owns(self, name: str) -> bool:
        return name.startswith(self.prefix)

    def listing_known(self) -> bool:
        return self._listing is not None

    def expect(self, names: frozenset[str]) -> None:
        self._expected = names

    def info(self, remote: str) -> McpToolInfo | None:
        return (self._listing or {}).get(remote)

    def _tool(self, remote: str) -> McpTool:
        # One object per name: it reads the current listing, and caches its schema checker.
        found = self._objects.get(remote)
        if found is None:
            found = self._objects[remote] = McpTool(self, remote)
        return found

    def tools(self) -> list[Tool]:
        return [self._tool(remote) for remote in sorted(self._listing or {})]

    def get(self, name: str) -> McpTool | None:
        if not self.owns(name):
            return None
        remote = name[len(self.prefix) :]
        if self._listing is None:
            # Down since start-up: a stand-in answers, so that resume can ask it whether
            # it is available rather than forget the tool.
            return McpTool(self, remote)
        if remote not in self._listing:
            return None  # not advertised, or excluded: unknown to the model
        return self._tool(remote)

    def gated(self, remote: str) -> bool:
        return not self.exemption(remote)

    def exemption(self, remote: str) -> str:
        """The no_approval pattern that exempts a tool, said for people; "" when none does."""
        found = next((p for p in self.spec.no_approval if fnmatchcase(remote, p)), None)
        return (
            "" if found is None else f"the no_approval pattern {found!r} of {self.label} matches it"
        )

    def problem(self) -> str | None:
        if self._closed:
            return "stopped (signoff is shutting down)"
        if self._still_starting():
            return "no answer yet (still starting)"
        return self._down or None

    def status(self) -> str:
        if self._closed or self._still_starting():
            return f"{self.label} is {self.problem()}"
        return f"{self.label} is down: {self._down}" if self._down else f"{self.label} is up"

    def _still_starting(self) -> bool:
        # Not once its first attempt failed: why it is down is what an operator needs.
        return (
            self._starting is not None
            and not self._starting.done()
            and self._conn is None
            and not self._down
        )

    # -- life cycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect, waiting at most ``startup_wait``; the first attempt goes on after."""
        self._starting = asyncio.create_task(self._first(), name=f"mcp-start-{self.name}")
        await asyncio.wait({self._starting}, timeout=self.startup_wait)
        if not self._starting.done():
            log.warning("%s is still starting; its tools are offered once it answers", self.label)

    async def _first(self) -> None:
        reason = await self.ensure()
        if reason:
            log.warning("%s; its tools are offered once it answers", reason)
        if not self._closed:
            self._watcher = asyncio.create_task(self._watch(), name=f"mcp-watch-{self.name}")

    async def aclose(self) -> None:
        self._closed = True
        if self._starting is not None:
            await cancel_and_wait(self._starting)  # a first attempt may wait minutes
        if self._watcher is not None:
            await cancel_and_wait(self._watcher)
        async with self._lock:
            if self._conn is not None:
                await self._conn.close()
                self._conn = None
        self._errlog.close()

    async def _watch(self) -> None:
        backoff = 1.0
        while not self._closed:
            await asyncio.sleep(self.health_interval if not self._down else backoff)
            if self._closed:
                return
            await self._errlog.cap()
            was_down = bool(self._down)
            reason = await self.ensure()
            if reason:
                backoff = min(backoff * 2, _MAX_BACKOFF) if was_down else 1.0
                if not was_down:
                    log.warning("%s; %s", reason, self._next_step())
            else:
                backoff = 1.0
                if was_down:
                    log.warning("%s is back", self.label)

    def _next_step(self) -> str:
        """What the watcher does about a server it just found down, said as it logs it."""
        conn = self._conn
        if conn is not None and conn.running:  # ``ensure`` kept it: a reconnect cuts the call
            return "its connection is kept for the call it runs, and renewed once no call runs"
        return "reconnecting"

    async def ensure(self) -> str | None:
        """None once connected and the tools are re-listed (which also proves the server
        answers: MCP 2026 has no ping), else why not."""
        if self._closed:
            return self.status()
        async with self._lock:
            if self._closed:  # closed while this waited: start nothing new
                return self.status()
            conn = self._conn
            if conn is not None and conn.alive:
                try:
                    self._set_listing(await conn.list_tools())
                    self._down = ""
                    return None
                except ServerDown as exc:
                    self._down = self._masked(exc)  # reconnected below, unless a call runs
            if conn is not None and conn.running:
                # A reconnect stops a stdio server (ends an HTTP session) and the call it
                # runs with it: a listing refused mid-call (too busy to list, a gateway's
                # 429) must not cut an approved call short. Down for new calls meanwhile.
                self._down = self._down or "its tool listing failed while a call ran"
                return self.status()
            try:
                await self._reconnect()
            except ServerDown as exc:
                self._down = self._masked(exc)
                return self.status()
            self._down = ""
            return None

    def _masked(self, exc: ServerDown) -> str:
        return down_reason(str(exc), secrets=self.spec.secrets)

    async def _reconnect(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        conn = await McpConnection.open(self.name, self.spec, errlog=self._errlog.file())
        try:
            self._set_listing(await conn.list_tools())
        except ServerDown:
            await conn.close()
            raise
        self._conn = conn

    def _set_listing(self, tools: list[McpToolInfo]) -> None:
        listing = self._filter.offered(tools)
        self._listing = listing
        # Only the names listed now: one whose names carry a version or a date is re-read
        # every 15 s for months. A call holding a dropped object still reads the listing
        # through it, finds its tool gone, and is refused.
        self._objects = {n: t for n, t in self._objects.items() if n in listing}
        for name in sorted(self._expected):
            if name.removeprefix(self.prefix) not in listing:
                log.warning(
                    "%s does not offer %s, which the policy has a rule for: the rule applies "
                    "to nothing (a typo, or a tool it no longer has?)",
                    self.label,
                    name,
                )
        self._expected = frozenset()  # told once

    def version_of(self, info: McpToolInfo | None) -> str:
        """A tool's version: the schema the server lists now, on the server the config
        points to now (``McpServerSpec.pinned_config``), and what it says of itself there
        (its description's first paragraph and hints, which the approval card shows)."""
        if info is None:
            return UNLISTED
        return schema_version(
            {"schema": info.input_schema, "server": self.spec.pinned_config, "shown": pinned(info)}
        )

    async def call(
        self,
        remote: str,
        arguments: dict[str, object],
        *,
        approval_id: str,
        checked_version: str = "",
    ) -> CallToolResult:
        """Send one call, after re-listing: refused if the tool's schema is no longer the
        one the call was checked against (``checked_version``, when given)."""
        reason = await self.ensure()
        if reason:
            raise ToolNotRun(f"{reason}; nothing was sent")
        info = self.info(remote)
        now = self.version_of(info)
        if checked_version and now != checked_version:
            since = "it was approved" if approval_id else "the call was checked"
            raise ToolNotRun(
                f"the tool changed since {since} ({checked_version} → {now}); nothing was sent"
            )
        conn = self._conn
        assert conn is not None
        try:
            return await conn.call(remote, dict(arguments), approval_id=approval_id)
        except ServerDown as exc:  # raised before anything is sent (the connection broke)
            raise ToolNotRun(
                f"{self.label} is down: {self._masked(exc)}; nothing was sent"
            ) from None
