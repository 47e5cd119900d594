"""A ``signoff run`` process SIGKILLed while a reply streams, and a new bot after it: the
reply is never lost, never shown twice, and no half-written answer stays in the thread.

The first bot is a real subprocess (killed with nothing flushed); the second is built in
this process, so everything it knows it reads from disk and from Slack.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_kit import (
    AGENT,
    FakeAnthropic,
    ToolUse,
    anthropic_api,
    anthropic_bot,
    final_replies,
    metadata_of,
    slack,
)
from signoff_e2e_kit import OPS, bot_messages, clean_env, mention, session_states, until

from bot.config import Settings
from localslack import LocalSlack

__all__ = ["anthropic_api", "slack"]

SIGNOFF = str(Path(sys.executable).with_name("signoff"))
SLOW_TOOLS = '''
import asyncio

from agent_core.tools import tool


@tool
async def slow_check(target: str) -> str:
    """Check a target thoroughly (it takes a while).

    Args:
        target: what to check
    """
    await asyncio.sleep(60)
    return "fine"


TOOLS = [slow_check]
'''
FIRST = "I am checking the api thoroughly now; this will take a little while, bear with me."
SECOND = "The check was interrupted, so I do not know its result; ask me to run it again."


@pytest.fixture
def tools_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``slowtools`` for both bots: the subprocess on PYTHONPATH, this one on sys.path."""
    directory = tmp_path / "tools"
    directory.mkdir()
    (directory / "slowtools.py").write_text(SLOW_TOOLS)
    monkeypatch.syspath_prepend(str(directory))
    return directory


class BotProcess:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.out = logs / "signoff-run.out"
        with self.out.open("wb") as sink:
            self.proc = subprocess.Popen(
                [SIGNOFF, "run"], env=env, stdout=sink, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def log(self) -> str:
        return self.out.read_text(errors="replace")


@pytest.fixture
def first_bot(
    slack: LocalSlack,
    settings: Settings,
    anthropic_api: FakeAnthropic,
    tools_dir: Path,
    tmp_path: Path,
) -> Iterator[BotProcess]:
    env = clean_env(
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_APP_TOKEN=slack.app_token,
        SLACK_API_URL=slack.api_url,
        SIGNOFF_HOME=str(settings.home),
        SIGNOFF_MODEL=f"anthropic:{AGENT}",
        SIGNOFF_DEMO="1",
        SIGNOFF_TOOLS="slowtools",
        ANTHROPIC_API_KEY="sk-ant-test",
        ANTHROPIC_BASE_URL=anthropic_api.base_url,
        PYTHONPATH=str(tools_dir),
    )
    process = BotProcess(env, tmp_path)
    yield process
    process.kill()


async def killed(slack: LocalSlack, process: BotProcess) -> None:
    process.kill()
    assert process.proc.returncode == -signal.SIGKILL
    await until(lambda: not slack.sockets(), what="the dead process's socket to close")


async def connected(slack: LocalSlack, process: BotProcess) -> None:
    await until(
        lambda: bool(slack.sockets()) or process.proc.poll() is not None,
        timeout=30,
        what="signoff run to connect",
    )
    if not slack.sockets():
        raise AssertionError("signoff run never connected:\n" + process.log())


def assistant_texts(home: Path) -> list[str]:
    out = []
    for path in sorted((home / "sessions").glob("*/*/transcript.jsonl")):
        out += [
            r["text"]
            for r in map(json.loads, path.read_text().splitlines())
            if r.get("role") == "assistant" and r.get("text")
        ]
    return out


async def test_killed_while_the_model_writes_the_new_bot_answers_once_and_clears_the_half(
    slack: LocalSlack,
    first_bot: BotProcess,
    anthropic_api: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
    start_bot: Any,
    settings: Settings,
) -> None:
    anthropic_api.reply(FIRST + " " + FIRST, chunk_delay=0.15)  # the dead process's call
    anthropic_api.reply(SECOND, chunk_delay=0.02)  # the new bot's, after recovery
    await connected(slack, first_bot)
    thread = await mention(slack, "check the api thoroughly")
    half = await slack.wait_for_stream(
        channel=OPS, thread_ts=thread, state="streaming", text_contains="thoroughly", timeout=20
    )
    await killed(slack, first_bot)

    bot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)(tool_modules=("slowtools",))
    await until(lambda: len(final_replies(slack, thread)) == 1, timeout=15)
    await bot.engine.idle()
    await until(lambda: slack.message(channel=OPS, ts=half["ts"]) is None, what="the half gone")

    [reply] = bot_messages(slack, thread)
    assert reply["text"] == SECOND and metadata_of(reply)["part"] == 0
    assert assistant_texts(settings.home) == [SECOND]  # the cut-off text was never recorded
    assert sorted(session_states(settings.home).values()) == ["completed", "failed"]


async def test_killed_while_its_tool_runs_the_streamed_reply_is_finalized_not_repeated(
    slack: LocalSlack,
    first_bot: BotProcess,
    anthropic_api: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
    start_bot: Any,
    settings: Settings,
    tools_dir: Path,
) -> None:
    anthropic_api.reply(
        FIRST, ToolUse("slow_check", {"target": "api"}, id="toolu_01C"), chunk_delay=0.05
    )
    anthropic_api.reply(SECOND, chunk_delay=0.02)
    await connected(slack, first_bot)
    thread = await mention(slack, "check the api thoroughly")

    def task_running() -> bool:
        streams = slack.streams(channel=OPS)
        return bool(streams) and any(
            t["title"] == "slow_check" and t["status"] == "in_progress" for t in streams[0]["tasks"]
        )

    await until(task_running, timeout=20, what="the tool shown running in the stream")
    [live] = slack.streams(channel=OPS)
    assert live["state"] == "streaming"  # the reply waits for its tool before it is final
    pending = list((settings.home / "outbox" / "pending").glob("reply-*.json"))
    assert len(pending) == 1  # ...and is queued durably already
    await killed(slack, first_bot)

    bot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)(tool_modules=("slowtools",))
    await until(lambda: len(final_replies(slack, thread)) == 2, timeout=15)
    await bot.engine.idle()

    first, second = final_replies(slack, thread)
    assert first["ts"] == live["ts"] and first["text"] == FIRST  # the stream became the reply
    assert second["text"] == SECOND
    assert len(bot_messages(slack, thread)) == 2
    assert not slack.calls("chat.postMessage")  # nothing was posted twice, or at all
    finished = slack.stream(channel=OPS, ts=live["ts"])
    assert finished is not None and finished["state"] == "stopped"


async def test_a_step_cut_off_by_the_crash_is_not_shown_running_forever(
    slack: LocalSlack,
    first_bot: BotProcess,
    anthropic_api: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
    start_bot: Any,
    tools_dir: Path,
) -> None:
    anthropic_api.reply(
        FIRST, ToolUse("slow_check", {"target": "api"}, id="toolu_01C"), chunk_delay=0.05
    )
    anthropic_api.reply(SECOND, chunk_delay=0.02)
    await connected(slack, first_bot)
    thread = await mention(slack, "check the api thoroughly")

    def running() -> list[dict[str, Any]]:
        return [
            s
            for s in slack.streams(channel=OPS)
            if any(t["status"] == "in_progress" for t in s["tasks"])
        ]

    [live] = await until(running, timeout=20, what="the tool shown running in the stream")
    await killed(slack, first_bot)

    bot = await anthropic_bot(monkeypatch, anthropic_api, start_bot)(tool_modules=("slowtools",))
    await until(lambda: len(final_replies(slack, thread)) == 2, timeout=15)
    await bot.engine.idle()
    # The new bot finalized the dead process's stream as its reply; the call it showed
    # running was cut off by the crash (the thread is told so), and its step must say so
    # too, not spin "in progress" in the final message for ever.
    finished = slack.stream(channel=OPS, ts=live["ts"])
    assert finished is not None and finished["state"] == "stopped"
    [step] = finished["tasks"]
    assert step["status"] == "error" and "restart" in step.get("details", "")
