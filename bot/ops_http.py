"""HTTP for operators on ``SIGNOFF_HTTP`` (default ``127.0.0.1:9464``): health, readiness,
metrics.

    GET /healthz   200 {"status": "ok", "pid": …} while the event loop answers (it serves this)
    GET /readyz    200 when every check passes; else 503 naming each problem
    GET /metrics   Prometheus text format (503 while the index cannot be counted)

The server runs on the engine's event loop on purpose: a loop stuck in a blocking call
stops answering ``/healthz``, which is what a liveness probe is for. Checks are
``async () -> problem | None`` each bounded by a timeout, so a hung index reads as "not
ready", not as a hung probe.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from sessions import Home

from .config import ConfigError
from .metrics import CONTENT_TYPE, Metrics

__all__ = [
    "Check",
    "OpsServer",
    "bot_ops_server",
    "delivery_claimed",
    "home_writable",
    "index_answers",
]

log = logging.getLogger("signoff.ops")

Check = Callable[[], Awaitable[str | None]]
_CHECK_TIMEOUT = 2.0


def home_writable(home: Home) -> Check:
    def probe() -> str | None:
        # A byte written and synced, not an empty file: a full disk still lets one be
        # created, and says ENOSPC only to a write (or, delayed, to its fsync).
        try:
            with tempfile.NamedTemporaryFile(dir=home.root, prefix=".readyz-", buffering=0) as f:
                f.write(b"\n")
                os.fsync(f.fileno())
        except OSError as exc:
            return f"{home.root} is not writable: {exc.strerror or exc}"
        return None

    async def check() -> str | None:
        return await asyncio.to_thread(probe)

    return check


class Pingable(Protocol):
    async def ping(self) -> None: ...


def index_answers(index: Pingable) -> Check:
    async def check() -> str | None:
        try:
            await index.ping()
        except Exception as exc:
            return f"the index does not answer: {type(exc).__name__}: {exc}"
        return None

    return check


class Draining(Protocol):
    @property
    def claim_problem(self) -> str | None: ...


def delivery_claimed(delivery: Draining | None) -> Check:
    """Another process holding the outbox's drain claim too long: nothing goes out."""

    async def check() -> str | None:
        return None if delivery is None else delivery.claim_problem

    return check


class OpsServer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        metrics: Metrics,
        checks: Mapping[str, Check],
        home: Home | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.metrics = metrics
        self.checks = dict(checks)
        self.home = home
        self._runner: web.AppRunner | None = None
        self._counts_failing = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            # The errno's text: asyncio's own ("error while attempting to bind on ...") says
            # the address twice. A resolver's error (gaierror) has codes of its own.
            resolver = isinstance(exc, socket.gaierror)
            reason = (
                os.strerror(exc.errno) if exc.errno and not resolver else str(exc.strerror or exc)
            )
            raise ConfigError(
                f"SIGNOFF_HTTP: cannot listen on {self.host}:{self.port}: {reason}"
            ) from None
        self._runner = runner
        if self.port == 0:  # an ephemeral port (tests): learn which
            server = getattr(site, "_server", None)
            sockets = getattr(server, "sockets", None) or []
            if sockets:
                self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def problems(self) -> dict[str, str]:
        async def run(name: str, check: Check) -> tuple[str, str | None]:
            try:
                async with asyncio.timeout(_CHECK_TIMEOUT):  # never swallows a cancel
                    return name, await check()
            except TimeoutError:
                return name, f"{name}: no answer within {_CHECK_TIMEOUT:.0f}s"
            except Exception as exc:
                return name, f"{name}: {type(exc).__name__}: {exc}"

        results = await asyncio.gather(*(run(n, c) for n, c in self.checks.items()))
        return {name: problem for name, problem in results if problem is not None}

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "pid": os.getpid()})

    async def _readyz(self, request: web.Request) -> web.Response:
        problems = await self.problems()
        body: dict[str, Any] = {
            "ready": not problems,
            "checks": {name: problems.get(name, "ok") for name in self.checks},
            "problems": sorted(problems.values()),
        }
        if self.home is not None and Path(self.home.kill_switch).exists():
            # Ready (it answers, and says so), but doing nothing until KILL is removed.
            body["kill_switch"] = True
        return web.json_response(body, status=503 if problems else 200)

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            # Bounded as the checks are: the gauges are counted on the index's connection,
            # behind writes that wait 5 s each for another process's lock; a scrape that
            # outlasts Prometheus's timeout (10 s) fails with no word of why.
            async with asyncio.timeout(_CHECK_TIMEOUT):
                text = await self.metrics.render()
        except TimeoutError:
            return self._unavailable(f"no answer within {_CHECK_TIMEOUT:.0f}s")
        except Exception as exc:
            # The gauges are counted from the index, which a stop closes before this
            # server stops (and a broken disk can fail): a 503 saying so, logged once
            # until a scrape succeeds again, not a 500 with aiohttp's traceback each time.
            return self._unavailable(f"{type(exc).__name__}: {exc}")
        self._counts_failing = False
        return web.Response(body=text, headers={"Content-Type": CONTENT_TYPE})

    def _unavailable(self, why: str) -> web.Response:
        problem = f"metrics unavailable: the index does not answer: {why}"
        if not self._counts_failing:
            log.warning("%s", problem)
        self._counts_failing = True
        return web.Response(status=503, text=problem + "\n")


def bot_ops_server(
    bind: tuple[str, int],
    *,
    metrics: Metrics,
    home: Home,
    link_problem: Callable[[], str | None],
    index: Pingable,
    slack: Check,
    delivery: Draining | None,
) -> OpsServer:
    """A running bot's server: ready while its Socket Mode link is up (``link_problem``
    None), its home writable, its index answering, Slack taking its token and no other
    process holding the outbox's drain claim too long."""

    async def socket_link() -> str | None:
        return link_problem()

    checks = {
        "socket": socket_link,
        "home": home_writable(home),
        "index": index_answers(index),
        "slack": slack,
        "delivery": delivery_claimed(delivery),
    }
    return OpsServer(host=bind[0], port=bind[1], metrics=metrics, home=home, checks=checks)
