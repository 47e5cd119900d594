"""The processes of a black-box bench: localslack, the fake Anthropic server, and the bot
under test (``signoff run`` or the bare Bolt bot), each in its own process.

The bot is measured from outside: CPU from ``/proc/<pid>/stat``, bytes written from
``/proc/<pid>/io``, start-up from the moment it was spawned to localslack's record of its
Socket Mode connection. Times that cross processes are wall-clock (``time.time()``), the
clock localslack and the fake model stamp their records with.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiohttp

__all__ = ["BotProc", "Control", "Stack", "child_env", "free_port", "wait_until"]

ROOT = Path(__file__).resolve().parents[1]
SIGNOFF = str(Path(sys.executable).with_name("signoff"))
CHANNEL = "C0OPS"
Kind = Literal["signoff", "bare"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def child_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if "proxy" not in k.lower() and not k.startswith(("SIGNOFF_", "SLACK_", "ANTHROPIC_"))
    }
    env.update(PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT), **extra)
    return env


def _spawn(argv: list[str], *, pattern: str, **env: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``argv`` and return it with the first URL its stdout prints."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=child_env(**env), cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(pattern, line)
    if not match:
        proc.kill()
        raise RuntimeError(f"{argv[2]} did not start: {line!r}")
    return proc, match.group(1)


async def wait_until(condition: Callable[[], Awaitable[bool]], limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not met")
        await asyncio.sleep(0.02)


class Control:
    """localslack's control API over HTTP."""

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url.rstrip("/") + "/_control"
        self.session = session

    async def call(self, verb: str, path: str, /, **body: Any) -> Any:
        async with self.session.request(verb, self.url + path, json=body or None) as response:
            return await response.json()

    async def post(self, text: str, *, thread_ts: str | None = None) -> str:
        body: dict[str, Any] = {"channel": CHANNEL, "user": "U0ALICE", "text": text}
        if thread_ts:
            body["thread_ts"] = thread_ts
        return str((await self.call("POST", "/messages", **body))["ts"])

    async def reply_after(self, thread_ts: str, after_ts: str, *, wait_s: float = 60) -> Any:
        """The bot's first message in the thread after ``after_ts`` (waits for it)."""
        found = await self.call(
            "POST", "/messages/wait", channel=CHANNEL, thread_ts=thread_ts, from_bot=True,
            after_ts=after_ts, timeout=wait_s,
        )  # fmt: skip
        if not found.get("ok"):
            raise TimeoutError(f"no reply in {thread_ts} after {after_ts}: {found}")
        return found["message"]

    async def deliveries(self, *, payload: bool = False) -> list[dict[str, Any]]:
        query = "/deliveries?type=events_api" + ("&payload=1" if payload else "")
        return list((await self.call("GET", query))["deliveries"])

    async def sockets(self) -> list[dict[str, Any]]:
        return list((await self.call("GET", "/sockets"))["sockets"])


@dataclass
class BotProc:
    kind: Kind
    proc: subprocess.Popen[bytes]
    spawned_at: float
    home: Path | None
    http_port: int | None
    stderr_path: Path
    clk_tck: int = field(default_factory=lambda: os.sysconf("SC_CLK_TCK"))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """User + system CPU of the process (all its threads) so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.clk_tck

    def write_bytes(self) -> int:
        """Bytes this process caused to be sent to the storage layer (``/proc/<pid>/io``)."""
        for line in Path(f"/proc/{self.pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
        return 0

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")[-3000:]


class Stack:
    """localslack and the fake model, started on entry and stopped on exit."""

    def __init__(self, *, work: Path, model_delay: float = 0.0) -> None:
        self.work = work
        self.model_delay = model_delay
        self.children: list[subprocess.Popen[Any]] = []
        self.bots: list[BotProc] = []

    async def __aenter__(self) -> Stack:
        slack, self.slack_url = _spawn(
            [sys.executable, "-m", "localslack", "--port", "0", "--ack-timeout", "30"],
            pattern=r"(http://\S+)",
        )
        self.children.append(slack)
        assert slack.stdout is not None
        tokens = [slack.stdout.readline().split()[-1] for _ in range(4)]
        self.bot_token, self.app_token = tokens[2], tokens[3]
        model, self.model_url = _spawn(
            [sys.executable, "-m", "bench.fake_model", "--delay", str(self.model_delay)],
            pattern=r"(http://\S+)",
        )
        self.children.append(model)
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600))
        self.control = Control(self.slack_url, self.session)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for bot in self.bots:
            bot.stop()
        await self.session.close()
        for child in reversed(self.children):
            child.terminate()
            child.wait(timeout=10)

    def spawn_bot(self, kind: Kind, *, home: Path | None = None, **env: str) -> BotProc:
        """Start a bot process; returns at once (see ``connected``)."""
        common = dict(
            SLACK_BOT_TOKEN=self.bot_token, SLACK_APP_TOKEN=self.app_token,
            SLACK_API_URL=self.slack_url + "/api/", ANTHROPIC_API_KEY="sk-ant-bench-0123456789",
            ANTHROPIC_BASE_URL=self.model_url,
        )  # fmt: skip
        port: int | None = None
        if kind == "signoff":
            assert home is not None
            port = free_port()
            common.update(
                SIGNOFF_HOME=str(home), SIGNOFF_MODEL="anthropic:claude-bench",
                SIGNOFF_TOOLS="bench.gated_tool", SIGNOFF_HTTP=f"127.0.0.1:{port}",
                SIGNOFF_LOG_LEVEL="WARNING", SIGNOFF_LOG_FORMAT="json",
            )  # fmt: skip
            argv = [SIGNOFF, "run"]
        else:
            argv = [sys.executable, "-m", "bench.bare_bot"]
        common.update(env)
        err = self.work / f"{kind}-{len(self.bots)}.stderr"
        with err.open("wb") as handle:
            spawned = time.time()
            proc = subprocess.Popen(
                argv, env=child_env(**common), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=handle,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        bot = BotProc(kind, proc, spawned, home, port, err)
        self.bots.append(bot)
        return bot

    async def socket_ids(self) -> set[str]:
        return {str(s["id"]) for s in await self.control.sockets()}

    async def connected(self, bot: BotProc, known: set[str], *, limit: float = 300) -> float:
        """Wait for ``bot``'s Socket Mode connection (one not in ``known``); the wall-clock
        time localslack accepted it."""

        async def fresh() -> bool:
            if bot.proc.poll() is not None:
                raise RuntimeError(f"{bot.kind} exited {bot.proc.returncode}: {bot.stderr()}")
            return any(s["id"] not in known for s in await self.control.sockets())

        await wait_until(fresh, limit)
        return max(
            float(s["connected_at"]) for s in await self.control.sockets() if s["id"] not in known
        )

    async def start_bot(self, kind: Kind, *, home: Path | None = None, **env: str) -> BotProc:
        known = await self.socket_ids()
        bot = self.spawn_bot(kind, home=home, **env)
        await self.connected(bot, known)
        return bot

    async def set_model_delay(self, seconds: float) -> None:
        async with self.session.post(
            self.model_url + "/_bench/delay", json={"seconds": seconds}
        ) as response:
            response.raise_for_status()

    async def _model_record(self) -> Any:
        async with self.session.get(self.model_url + "/_bench/arrivals") as response:
            return await response.json()

    async def arrivals(self) -> list[tuple[float, int | None]]:
        """(wall-clock arrival, ``bench-<n>`` tag) of every model request so far."""
        return [(float(at), tag) for at, tag in (await self._model_record())["arrivals"]]

    async def last_messages_bytes(self) -> int:
        """Size of the ``messages`` JSON of the latest model request."""
        return int((await self._model_record())["last_messages_bytes"])
