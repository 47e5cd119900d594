"""What the live view costs and gives: mention → first text and → whole reply, and the
Slack calls per turn, with the live view on and with every surface lacking (the fallback:
reaction and plain posts), same run, same scripted answers.

LocalSlack, the fake Anthropic API (tests/providers) and the bot run in this process. The
streaming model writes a 60-word answer one word every 40 ms (about 2.4 s); the offline
model answers at once. Each row is the median of ``MENTIONS`` sequential mentions, each in
a thread of its own.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack, Timing, WorkspaceConfig

from .report import median, table

_FAKES = Path(__file__).resolve().parents[1] / "tests" / "providers"
if str(_FAKES) not in sys.path:
    sys.path.insert(0, str(_FAKES))

from fake_anthropic import FakeAnthropic  # noqa: E402

MENTIONS = 8
ANSWER = " ".join(f"word{n}" for n in range(60))
LACKING = ("assistant.threads.setStatus", "agents.sessions.setStatus", "chat.startStream")


def _workspace() -> WorkspaceConfig:
    base = WorkspaceConfig(timing=Timing(ack_timeout=5.0, server_ping_interval=None))
    return dataclasses.replace(
        base,
        scopes=(*base.scopes, "assistant:write"),
        subscribed_events=(*base.subscribed_events, "agent_session_stopped"),
    )


async def _phase(*, model: str, live: bool) -> tuple[float, float, float]:
    """Medians of (first text, whole reply) in seconds, and Slack calls per turn."""
    async with LocalSlack(_workspace()) as slack, FakeAnthropic(api_key="sk-bench") as api:
        os.environ.update(ANTHROPIC_API_KEY="sk-bench", ANTHROPIC_BASE_URL=api.base_url)
        for _ in range(MENTIONS):
            api.reply(ANSWER, chunk_delay=0.04)
        if not live:
            for method in LACKING:
                slack.lack_surface(method=method)
        with tempfile.TemporaryDirectory(prefix="signoff-live-bench-") as home:
            settings = Settings(
                home=Path(home), model=model, demo_tools=True, http="off",
                slack_bot_token=SecretStr(slack.bot_token),
                slack_app_token=SecretStr(slack.app_token), slack_api_url=slack.api_url,
            )  # fmt: skip
            bot = await SignoffBot.build(settings)
            await bot.start()
            await slack.wait_for_sockets(1, timeout=10)
            first, whole, calls = [], [], []
            try:
                for i in range(MENTIONS):
                    before = len(slack.calls())
                    start = time.perf_counter()
                    ask = "status of api" if model == "offline" else "tell me a story"
                    ts = await slack.post_message(
                        channel="C0OPS", user="U0ALICE", text=f"<@U0SIGNOFF> {ask} {i}"
                    )
                    await slack.wait_for_message(
                        channel="C0OPS", thread_ts=ts, from_bot=True, timeout=30
                    )
                    first.append(time.perf_counter() - start)
                    await slack.wait_for_message(
                        lambda m: bool(m.get("metadata")),
                        channel="C0OPS", thread_ts=ts, from_bot=True, timeout=30,
                    )  # fmt: skip
                    whole.append(time.perf_counter() - start)
                    await bot.engine.idle()
                    if bot.live is not None:
                        await bot.live.streams.drain()
                    calls.append(len(slack.calls()) - before)
            finally:
                await bot.stop(grace=10)
    return median(first), median(whole), median(calls)


async def live_table() -> str:
    rows = []
    for model, label in (("anthropic:claude-bench", "streaming model"), ("offline", "offline")):
        off = await _phase(model=model, live=False)
        on = await _phase(model=model, live=True)
        for name, (first, whole, calls) in (("fallback", off), ("live view", on)):
            rows.append(
                [label, name, f"{first * 1000:.0f} ms", f"{whole * 1000:.0f} ms",
                 f"{first / off[0]:.2f}x", f"{calls:.0f}"]
            )  # fmt: skip
    return table(
        f"Mention → first text / whole reply, live view vs fallback ({MENTIONS} mentions each)",
        ["model", "mode", "first text", "whole reply", "first vs fallback", "Slack calls"],
        rows,
    )
