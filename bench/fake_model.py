"""``python -m bench.fake_model --delay S``: the Anthropic Messages API stand-in of the
benchmarks, in its own process (tests/providers/fake_anthropic.py, the tests' fake).

Every request waits ``S`` seconds, then gets a reply chosen by its last message: a
``tool_result`` gets "done"; a message containing ``bench-gated`` gets a call of the
gated ``bench_gated_action`` tool (bench/gated_tool.py); anything else gets "ok bench".
The wall-clock arrival of each request (``time.time()``, the clock localslack stamps
deliveries with) and the last ``bench-<n>`` tag in its last message are served as JSON at
``GET /_bench/arrivals``, so a bench can tell when each thread's model call started;
with the size of the ``messages`` JSON of the latest request; ``POST /_bench/delay {"seconds": S}`` changes the delay.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from aiohttp import web

_FAKES = Path(__file__).resolve().parents[1] / "tests" / "providers"
if str(_FAKES) not in sys.path:
    sys.path.insert(0, str(_FAKES))

from fake_anthropic import FakeAnthropic, ToolUse  # noqa: E402

__all__ = ["REPLY_TEXT", "BenchAnthropic", "main"]

REPLY_TEXT = "ok bench"
_TAG = re.compile(r"bench-(\d+)")


def _last_message(body: Any) -> Any:
    messages = body.get("messages") if isinstance(body, dict) else None
    return messages[-1] if isinstance(messages, list) and messages else {}


class BenchAnthropic(FakeAnthropic):
    def __init__(self, *, delay: float) -> None:
        super().__init__(default_text=REPLY_TEXT, strict=False)
        self.delay = delay
        self.arrivals: list[tuple[float, int | None]] = []
        self.last_messages_bytes = 0

    def ok_body(self, text: str, request_body: Any) -> Any:
        last = json.dumps(_last_message(request_body))
        if '"tool_result"' in last:
            return self.message("done")
        if "bench-gated" in last:
            return self.message(ToolUse("bench_gated_action", {"n": 1}))
        return self.message(text)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.time()
        raw = await request.read()  # aiohttp keeps it: the base class reads it again
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        tags = _TAG.findall(json.dumps(_last_message(body)))
        if isinstance(body, dict):
            self.last_messages_bytes = len(json.dumps(body.get("messages")).encode())
        self.arrivals.append((arrived, int(tags[-1]) if tags else None))
        if self.delay:
            await asyncio.sleep(self.delay)
        return await super()._handle(request)

    async def serve(self, port: int) -> None:
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        app.router.add_get("/_bench/arrivals", self._arrivals)
        app.router.add_post("/_bench/delay", self._set_delay)
        runner = web.AppRunner(app, handler_cancellation=True)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        bound = int(runner.addresses[0][1])
        print(f"fake anthropic listening on http://127.0.0.1:{bound}", flush=True)
        await asyncio.Event().wait()

    async def _arrivals(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"arrivals": self.arrivals, "last_messages_bytes": self.last_messages_bytes}
        )

    async def _set_delay(self, request: web.Request) -> web.Response:
        self.delay = float((await request.json())["seconds"])
        return web.json_response({"ok": True})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fake_model")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(BenchAnthropic(delay=args.delay).serve(args.port))


if __name__ == "__main__":
    main()
