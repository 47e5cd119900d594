"""The stop button and open Home tabs: a request the stop withdrew leaves "Waiting for
you" of every approver whose Home showed it, and the requester's "Your open requests",
and it is among the requester's "Recently decided", without anyone opening a tab again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from live_kit import (
    FakeAnthropic,
    ToolUse,
    anthropic_api,
    anthropic_bot,
    manifest_agent_workspace,
)
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    bot_reply,
    decision,
    home_of,
    home_texts,
    mention,
    until,
    wait_card,
)

from bot.config import Settings
from localslack import LocalSlack

__all__ = ["anthropic_api"]


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    """The app exactly as manifest.yml declares it (its Home tab too), made an agent."""
    async with LocalSlack(manifest_agent_workspace()) as server:
        yield server


async def test_a_stop_takes_the_request_it_withdrew_off_every_open_home(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
) -> None:
    api = anthropic_api
    api.reply("I will restart api.", ToolUse("restart_service", {"service": "api"}, id="toolu_01R"))
    api.reply(" ".join(f"step {n} of a long explanation." for n in range(200)), chunk_delay=0.05)
    await anthropic_bot(monkeypatch, api, start_bot)()
    await slack.wait_for_sockets(1, timeout=5)
    for user in ("U0ALICE", "U0CAROL"):
        await slack.open_app_home(user=user)
        await home_of(slack, user, has="Waiting for you (0)")

    thread = await mention(slack, "restart api")
    approval = approval_id_of(await wait_card(slack, thread))
    await home_of(slack, "U0CAROL", has="Waiting for you (1)")
    await home_of(slack, "U0ALICE", has="restart_service", lacks="Nothing you asked for")

    await mention(slack, "and explain what you will do", thread_ts=thread, user="U0ALICE")
    await slack.wait_for_stream(channel=OPS, thread_ts=thread, state="streaming")
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="processing")
    delivery = await slack.stop_agent_session(user="U0BOB", channel=OPS, thread_ts=thread)
    assert delivery is not None
    acked = await slack.wait_for_ack(delivery.envelope_id, timeout=3)
    assert not acked.timed_out and not acked.late_ack
    await bot_reply(slack, thread, "Stopped by <@U0BOB>")
    found = await until(lambda: decision(settings.home, approval), what="the withdrawal")
    assert found["verdict"] == "denied"

    carols = await home_of(slack, "U0CAROL", has="Waiting for you (0)")
    assert "restart_service" not in home_texts(carols)
    alices = await home_of(slack, "U0ALICE", has="Nothing you asked for is waiting.")
    assert "🚫 denied by <@U0BOB>" in home_texts(alices), home_texts(alices)
