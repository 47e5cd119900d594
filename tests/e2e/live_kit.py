"""Helpers for the live-view tests (status, agent sessions, streamed replies, stop):
a workspace whose app is declared as an agent, a bot on the streaming fake Anthropic API,
and readers of what the thread shows (through LocalSlack's control API, never the bot)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    as_in_manifest,
    bot_messages,
    mention,
    wait_card,
)

from localslack import Delivery, LocalSlack, Timing, WorkspaceConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "providers"))

from fake_anthropic import FakeAnthropic, ToolUse
from fake_provider_http import Scripted

__all__ = [
    "AGENT",
    "FakeAnthropic",
    "Scripted",
    "ToolUse",
    "agent_workspace",
    "anthropic_bot",
    "final_replies",
    "held_tool_module",
    "manifest_agent_workspace",
    "metadata_of",
    "shown",
    "status_sets",
    "statuses",
    "stop_while_streaming",
]

FAST = Timing(ack_timeout=1.0, server_ping_interval=None)
AGENT = "claude-test"


def agent_workspace(**changes: Any) -> WorkspaceConfig:
    """The default workspace, with signoff declared as an agent (``assistant:write``) and
    subscribed to the stop button's event."""
    base = WorkspaceConfig(seed=11, timing=FAST)
    return dataclasses.replace(
        base,
        scopes=(*base.scopes, "assistant:write"),
        subscribed_events=(*base.subscribed_events, "agent_session_stopped"),
        **changes,
    )


def manifest_agent_workspace(**changes: Any) -> WorkspaceConfig:
    """``agent_workspace`` with the app's scopes and events as manifest.yml declares them
    (``as_in_manifest``), made an agent as docs/slack.md says."""
    base = as_in_manifest(agent_workspace(**changes))
    return dataclasses.replace(
        base,
        scopes=(*base.scopes, "assistant:write"),
        subscribed_events=(*base.subscribed_events, "agent_session_stopped"),
    )


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    """LocalSlack with signoff declared as an agent (import it to replace conftest's)."""
    async with LocalSlack(agent_workspace()) as server:
        yield server


@pytest.fixture
async def anthropic_api() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic(api_key="sk-ant-test") as server:
        yield server
    assert server.rejections == [], "a request broke the Messages API rules"


def anthropic_bot(
    monkeypatch: pytest.MonkeyPatch, api: FakeAnthropic, start_bot: Callable[..., Awaitable[Any]]
) -> Callable[..., Awaitable[Any]]:
    """A bot factory whose model is the fake Anthropic API (streaming, through the SDK)."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)

    async def start(**changes: Any) -> Any:
        return await start_bot(model=f"anthropic:{AGENT}", **changes)

    return start


async def stop_while_streaming(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    api: FakeAnthropic,
    start_bot: Callable[..., Awaitable[Any]],
    *,
    stopper: str,
    before_stop: Callable[[], object] = lambda: None,
    ack_within: float = 10,
    **bot: Any,
) -> tuple[Any, str, str, Delivery]:
    """Alice asks for a restart (a card waits); her follow-up starts a turn, and ``stopper``
    clicks the stop button while the model writes (``before_stop`` just before). The bot
    (started with ``bot``), the thread, the approval id and the stop's delivery, acked."""
    api.reply("I will restart api.", ToolUse("restart_service", {"service": "api"}, id="toolu_01R"))
    api.reply(" ".join(f"step {n} of a long explanation." for n in range(200)), chunk_delay=0.05)
    started = await anthropic_bot(monkeypatch, api, start_bot)(**bot)
    thread = await mention(slack, "restart api")
    approval = approval_id_of(await wait_card(slack, thread))
    await mention(slack, "and explain what you will do", thread_ts=thread, user="U0ALICE")
    await slack.wait_for_stream(channel=OPS, thread_ts=thread, state="streaming")
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="processing")
    before_stop()
    delivery = await slack.stop_agent_session(user=stopper, channel=OPS, thread_ts=thread)
    assert delivery is not None
    acked = await slack.wait_for_ack(delivery.envelope_id, timeout=ack_within)
    return started, thread, approval, acked


HELD_TOOL = '''
import asyncio

from agent_core.tools import ToolContext, tool


@tool()
async def held_check(target: str, ctx: ToolContext) -> str:
    """Take as long as the test holds it (a stand-in for a slow health check).

    Args:
        target: what to check
    """
    (ctx.home / f"held-{target}").write_text("")
    for _ in range(600):
        if (ctx.home / "release").exists():
            break
        await asyncio.sleep(0.02)
    return f"{target} is fine"


TOOLS = [held_check]
'''


def held_tool_module(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A tool module (for ``tool_modules``) whose ``held_check`` writes ``held-<target>``
    in the bot's home and runs until the test writes ``release`` there."""
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "held_steps_tools.py").write_text(HELD_TOOL)
    monkeypatch.syspath_prepend(str(tools))
    return "held_steps_tools"


def metadata_of(message: dict[str, Any]) -> dict[str, Any]:
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload")
    return (
        payload if meta.get("event_type") == "signoff_outbox" and isinstance(payload, dict) else {}
    )


def final_replies(slack: LocalSlack, thread: str) -> list[dict[str, Any]]:
    """The bot's messages in the thread that are replies (outbox ``reply-`` entries)."""
    return [
        m
        for m in bot_messages(slack, thread)
        if str(metadata_of(m).get("entry", "")).startswith("reply-")
    ]


def statuses(slack: LocalSlack, thread: str) -> list[tuple[str, str]]:
    """(status, cause) of every change of the thread's status line, oldest first."""
    return [(c["status"], c["cause"]) for c in slack.status_history(channel=OPS, thread_ts=thread)]


def status_sets(slack: LocalSlack, thread: str) -> list[str]:
    """What each ``assistant.threads.setStatus`` call for the thread asked, in order."""
    return [
        str(c.args.get("status"))
        for c in slack.calls("assistant.threads.setStatus")
        if c.args.get("thread_ts") == thread
    ]


def shown(slack: LocalSlack, thread: str) -> str | None:
    """The thread's status line now (None: cleared)."""
    status = slack.thread_status(channel=OPS, thread_ts=thread)
    return None if status is None else str(status["status"])
