"""`signoff dev` on a streaming model (the fake Anthropic API, through the SDK) in the
browser: the thread's status line while signoff thinks, the reply growing as the model
writes with its tool call as a step, the finished reply, and the stop button stopping a
long answer. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from browser_kit import DevProcess

pytest.importorskip("playwright", reason="browser tests need the playwright package")
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "providers"))
from fake_anthropic import FakeAnthropic, ToolUse

T = TypeVar("T")
KEY = "sk-ant-browser-test"
LONG = " ".join(
    f"Step {n}: check the dashboards, then the logs, then tell the on-call." for n in range(40)
)


class BackgroundAnthropic:
    """The fake Anthropic API on its own loop in a thread (the page is driven synchronously)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.api = self.run(FakeAnthropic(api_key=KEY).start())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def close(self) -> None:
        self.run(self.api.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


@pytest.fixture
def anthropic() -> Iterator[FakeAnthropic]:
    server = BackgroundAnthropic()
    yield server.api
    server.close()


def test_status_line_streamed_reply_and_stop(
    page: Any,
    dev: Callable[..., DevProcess],
    shot: Callable[[Any, str], Path],
    tmp_path: Path,
    anthropic: FakeAnthropic,
) -> None:
    anthropic.reply(
        "Let me check the **api** service first, then I will tell you what I see.",
        ToolUse("service_status", {"service": "api"}, id="toolu_01Status"),
        delay=1.5,  # the status line shows while the model has not answered yet
        chunk_delay=0.15,
    )
    anthropic.reply(
        "The api is *healthy*: p99 latency is 120 ms and there were no errors in the last "
        "hour. Nothing needs doing.",
        chunk_delay=0.15,
    )
    anthropic.reply(LONG, chunk_delay=0.15)
    server = dev(
        tmp_path / "home",
        "--port",
        "0",
        extra_env={
            "SIGNOFF_MODEL": "anthropic:claude-test",
            "ANTHROPIC_API_KEY": KEY,
            "ANTHROPIC_BASE_URL": anthropic.base_url,
        },
    )
    page.goto(server.url + "/ui/#c=C0OPS&u=U0ALICE")
    expect(page.locator("#conn")).to_have_text("● live")
    box = page.locator("#composer textarea")
    box.fill("@signoff is the api ok?")
    box.press("Enter")
    asked = page.locator("#messages .msg", has_text="is the api ok?")
    # The channel shows the status under the question; the thread shows it at its foot.
    expect(asked.locator(".thread-status-line")).to_contain_text("signoff is thinking…")
    ts = asked.get_attribute("data-ts")
    page.goto(f"{server.url}/ui/#c=C0OPS&u=U0ALICE&t={ts}")
    line = page.locator("#thread-status .thread-status-line")
    expect(line).to_contain_text("signoff is thinking…")
    expect(page.locator("#session-bar .session-status")).to_have_text("processing")
    shot(page, "1-thinking")

    first = page.locator("#thread-messages .msg.from-bot", has_text="Let me check")
    expect(first.locator(".stream-cursor")).to_be_visible()  # still being written
    expect(first.locator(".stream-text b")).to_have_text("api")
    shot(page, "2-streaming")

    expect(first.locator(".task-title")).to_have_text("service_status")
    expect(first.locator(".task-complete")).to_have_count(1, timeout=20_000)
    second = page.locator("#thread-messages .msg.from-bot", has_text="healthy")
    expect(second.locator(".stream-cursor")).to_have_count(0, timeout=20_000)
    expect(second).to_contain_text("Nothing needs doing.")
    expect(first.locator(".stream-cursor")).to_have_count(0)
    expect(line).to_be_hidden()
    expect(page.locator("#session-bar .session-status")).to_have_text("active")
    expect(page.locator("#thread-messages .msg.from-bot")).to_have_count(2)
    shot(page, "3-answered")

    # Bob asks for a long answer in the same thread and stops it halfway.
    page.goto(f"{server.url}/ui/#c=C0OPS&u=U0BOB&t={ts}")
    expect(page.locator("#whoami")).to_contain_text("Bob")
    reply_box = page.locator("#thread-composer textarea")
    reply_box.fill("@signoff and how do I run a deploy, in detail?")
    reply_box.press("Enter")
    long = page.locator("#thread-messages .msg.from-bot", has_text="Step 0:")
    expect(long.locator(".stream-cursor")).to_be_visible(timeout=20_000)
    expect(page.locator("#session-bar .session-stop")).to_be_visible()
    shot(page, "4-long-answer")
    with page.expect_response("**/_ui/api/stop_session"):
        page.locator("#session-bar .session-stop").click()
    stopped = page.locator("#thread-messages .msg.from-bot", has_text="Stopped by")
    expect(stopped).to_contain_text("@bob")
    expect(long).to_have_count(0)  # no half answer is left looking like one
    expect(page.locator("#session-bar .session-status")).to_have_text("active")
    expect(page.locator("#session-bar .session-stop")).to_have_count(0)
    shot(page, "5-stopped")
