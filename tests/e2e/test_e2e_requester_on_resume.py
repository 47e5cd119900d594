"""Who asked a call the model makes when a decision resumes it, after someone else spoke.

Alice asks for a restart and then a deploy; while the restart's card waits, Carol writes
in the thread and the model answers her. Bob approves the restart; it runs, and the model
goes on with what Alice asked: the deploy. That call is Alice's request (her message
supplied its arguments), so she may not approve it herself. The requester was taken from
the last message in the thread (Carol's), which made Carol the requester and let Alice
approve her own deploy.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from live_kit import FakeAnthropic, ToolUse, anthropic_api, anthropic_bot, slack
from signoff_e2e_kit import (
    approval_id_of,
    bot_reply,
    capsule,
    cards,
    decision,
    ephemeral,
    mention,
    until,
)

from bot.config import Settings
from localslack import LocalSlack

__all__ = ["anthropic_api", "slack"]


async def test_a_call_asked_on_resume_is_still_the_first_askers_and_they_may_not_approve_it(
    slack: LocalSlack,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Awaitable[Any]],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = anthropic_api
    api.reply("Restarting api first.", ToolUse("restart_service", {"service": "api"}))
    api.reply("The restart of api waits for approval.")
    api.reply(
        "api restarted; now the deploy you asked for.",
        ToolUse("deploy_service", {"service": "web", "version": "2.1.0"}),
    )
    api.reply("Done.")
    bot = await anthropic_bot(monkeypatch, api, start_bot)()
    await slack.wait_for_sockets(1, timeout=5)

    thread = await mention(slack, "restart api, then deploy web 2.1.0", user="U0ALICE")
    await until(lambda: len(cards(slack, thread)) == 1, timeout=30, what="the restart's card")
    await mention(slack, "what is happening here?", user="U0CAROL", thread_ts=thread)
    await bot_reply(slack, thread, "waits for approval", timeout=20)
    await bot.engine.idle()

    first = approval_id_of(cards(slack, thread)[0])
    await slack.click_button(
        channel="C0OPS", ts=cards(slack, thread)[0]["ts"], user="U0BOB", action_id="signoff_approve"
    )
    await until(lambda: len(cards(slack, thread)) == 2, timeout=20, what="the deploy's card")
    await until(lambda: decision(settings.home, first) is not None, what="the restart decided")
    deploy_card = cards(slack, thread)[1]
    deploy = approval_id_of(deploy_card)
    # Alice's message supplied the deploy's arguments: she is its requester.
    assert "U0ALICE" in capsule(settings.home, deploy)["requesters"]

    await slack.click_button(
        channel="C0OPS", ts=deploy_card["ts"], user="U0ALICE", action_id="signoff_approve"
    )
    await ephemeral(slack, "U0ALICE", "someone else must decide it")
    await bot.engine.idle()
    assert decision(settings.home, deploy) is None
