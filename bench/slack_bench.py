"""Envelope-to-ack latency under a burst, signoff against a bare Bolt app, same run.

localslack runs in its own process (so its work does not share the event loop of the app
under test); the app runs in this process. A burst of 500 mentions across 100 threads is
posted through localslack's control API; localslack stamps when it sent each envelope and
when the ack arrived. The bare app only acks (Bolt's auto-ack of handled events); signoff
acks each envelope after writing the message durably to its thread inbox, and meanwhile
runs the offline model over every message. Also: mention → first reply latency.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import SignoffBot
from bot.config import Settings

from .report import median, ms, p99, table

BOT_TOKEN = "xoxb-local-0000-bot-token"
APP_TOKEN = "xapp-1-A0SIGNOFF-0000-local-app-token"
THREADS, MENTIONS = 100, 500


class Control:
    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url.rstrip("/") + "/_control"
        self.session = session

    async def call(self, method: str, path: str, **body: Any) -> Any:
        async with self.session.request(method, self.url + path, json=body or None) as response:
            return await response.json()

    async def post(self, text: str, *, thread_ts: str | None = None) -> str:
        body: dict[str, Any] = {"channel": "C0OPS", "user": "U0ALICE", "text": text}
        if thread_ts:
            body["thread_ts"] = thread_ts
        return str((await self.call("POST", "/messages", **body))["ts"])

    async def deliveries(self, *, payload: bool = False) -> list[dict[str, Any]]:
        query = "/deliveries?type=events_api" + ("&payload=1" if payload else "")
        return list((await self.call("GET", query))["deliveries"])


def _start_localslack() -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "localslack", "--port", "0", "--ack-timeout", "30"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"(http://\S+)", line)
    assert match, line
    return proc, match.group(1)


async def _wait(control: Control, condition: Any, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not met")
        await asyncio.sleep(0.05)


async def _phase(kind: str) -> tuple[list[float], list[float]]:
    proc, url = _start_localslack()
    home = Path(tempfile.mkdtemp(prefix="signoff-slack-bench-"))
    try:
        async with aiohttp.ClientSession() as session:
            control = Control(url, session)
            # Everything is posted before the app connects: localslack queues the envelopes
            # and sends them all the moment the socket opens — a real burst, the same for
            # both apps, not one paced by this load generator.
            parents = [await control.post(f"thread {i}") for i in range(THREADS)]
            gate = asyncio.Semaphore(25)

            async def mention(i: int) -> None:
                async with gate:
                    await control.post(
                        f"<@U0SIGNOFF> status of api #{i}", thread_ts=parents[i % THREADS]
                    )

            await asyncio.gather(*(mention(i) for i in range(MENTIONS)))
            closer, idle = await _start_app(kind, url, home)
            await _wait(control, lambda: _all_acked(control, THREADS + 2 * MENTIONS))
            burst = (await control.deliveries(payload=True))[: THREADS + 2 * MENTIONS]
            latencies = [
                d["acked_at"] - d["sent_at"] for d in burst if d["acked_at"] and d["sent_at"]
            ]
            replies: list[float] = []
            if kind == "signoff":
                await idle()  # the burst's 500 turns are done; now one mention at a time
                for i in range(20):
                    start = time.perf_counter()
                    ts = await control.post(f"<@U0SIGNOFF> status of web {i}")
                    await control.call(
                        "POST",
                        "/messages/wait",
                        channel="C0OPS",
                        thread_ts=ts,
                        from_bot=True,
                        timeout=30,
                    )
                    replies.append(time.perf_counter() - start)
            await closer()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)
    return latencies, replies


async def _has_socket(control: Control) -> bool:
    return bool((await control.call("GET", "/sockets"))["sockets"])


async def _all_acked(control: Control, count: int) -> bool:
    found = await control.deliveries()
    return len(found) >= count and all(d["acked"] for d in found)


async def _start_app(kind: str, url: str, home: Path) -> Any:
    if kind == "bare":
        app = AsyncApp(client=AsyncWebClient(token=BOT_TOKEN, base_url=url + "/api/"))

        async def noop() -> None:
            return None

        app.event("app_mention")(noop)
        app.event("message")(noop)
        handler = AsyncSocketModeHandler(app, APP_TOKEN)
        await handler.connect_async()  # type: ignore[no-untyped-call]  # unannotated in bolt

        async def nothing() -> None:
            return None

        return handler.close_async, nothing
    settings = Settings(
        home=home, slack_bot_token=SecretStr(BOT_TOKEN), slack_app_token=SecretStr(APP_TOKEN),
        slack_api_url=url + "/api/", http="127.0.0.1:0", demo_tools=True,
    )  # fmt: skip
    bot = await SignoffBot.build(settings)
    await bot.start()

    async def close() -> None:
        await bot.stop(grace=60)

    return close, bot.engine.idle


async def ack_table() -> str:
    bare, _ = await _phase("bare")
    ours, replies = await _phase("signoff")
    rows = []
    for name, values in (
        ("bare Bolt app (ack only)", bare),
        ("signoff (inbox write, then ack)", ours),
    ):
        rows.append(
            [name, len(values), ms(median(values)), ms(p99(values)), ms(max(values)),
             f"{p99(values) / p99(bare):.2f}x", sum(v > 3 for v in values)]
        )  # fmt: skip
    out = table(
        f"Envelope → ack, burst of {MENTIONS} mentions across {THREADS} threads (target p99 ≤ 1.2x bare)",
        ["app", "envelopes", "p50", "p99", "max", "p99 vs bare", "acks > 3 s"],
        rows,
    )
    out += table(
        "Mention → first reply (offline model, 20 sequential mentions after the burst)",
        ["p50", "p99", "max"],
        [[ms(median(replies)), ms(p99(replies)), ms(max(replies))]],
    )
    return out
