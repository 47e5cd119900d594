"""An interaction whose ack finds the link gone for good: one line says so, no traceback.

A form submission is acked only after its check (who may decide), which may ask Slack. If
the Socket Mode link dies meanwhile and Slack gives no new one before the bot stops, the
ack cannot be sent: Slack never delivers an interaction again (the person sees an error
and submits again), so nothing more can be done. But the ack went out through Bolt's own
sender, unguarded: slack_sdk logged "Failed to run a request listener" at ERROR with a
traceback, and the envelope had no line of its own. Now it has one, as an event whose ack
failed has.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest
from signoff_e2e_kit import until
from test_e2e_form_slow_lookup import REASON, form_open_on_private_card

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.reason_modal import APPROVE_MODAL
from localslack import LocalSlack

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import BotFactory


async def test_a_form_whose_ack_finds_the_link_gone_is_said_in_one_line(
    slack: LocalSlack,
    start_bot: BotFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    started: list[SignoffBot] = []

    async def starting(**changes: Any) -> SignoffBot:
        started.append(await start_bot(**changes))
        return started[-1]

    await form_open_on_private_card(slack, starting, tmp_path, APPROVE, ping_interval=0.2)
    held = slack.hold_calls(method="conversations.members")
    sent = await slack.submit_view(user="U0BOB", callback_id=APPROVE_MODAL, values=REASON)
    await held.wait_held()
    # The link dies while the check waits on Slack, and no new one is had before the stop.
    outage = slack.inject_fault(method="apps.connections.open", error="internal_error", count=None)
    assert slack.drop_sockets() == ["socket-1"]
    await until(lambda: outage.fired, what="the bot to notice the link is gone")
    held.release()
    await until(
        lambda: [r for r in caplog.records if r.getMessage() == "decision"], what="the decision"
    )
    await started[0].stop(grace=2)

    lines = [r for r in caplog.records if sent.envelope_id in r.getMessage()]
    assert [(r.name, r.levelno) for r in lines] == [("signoff.socket", logging.INFO)], [
        r.getMessage() for r in lines
    ]
    assert "Slack shows the person an error" in lines[0].getMessage(), lines[0].getMessage()
    failed = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not failed, [r.getMessage() for r in failed]
