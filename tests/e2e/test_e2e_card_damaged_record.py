"""One damaged outbox result of a card does not freeze that card for good.

Before a card is sent, delivery reads what Slack shows of it already (its card entries'
results in the thread's ``outbox.jsonl``: an unchanged card costs no call). A result there
that no longer parses (a disk fault, a hand edit) raised out of that read: every later
version of the card failed to go out, so an approved request's card kept its buttons and
its "waiting" header for good. Now that result counts as not shown, is named once in a
warning, and the card is sent.
"""

from __future__ import annotations

import logging

import pytest
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    bot_reply,
    has_buttons,
    mention,
    outcome_text,
    thread_path,
    until,
    wait_card,
)

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack


async def test_a_damaged_card_result_is_passed_over_and_the_card_still_updates(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await bot.engine.idle()

    # The card's first result damaged on disk: still JSON with its id, no longer a result.
    posted = f"card-{approval}-requested"
    log_file = thread_path(settings.home, thread) / "outbox.jsonl"
    lines = log_file.read_bytes().split(b"\n")
    [at] = [n for n, line in enumerate(lines) if f'"id":"{posted}"'.encode() in line]
    assert lines[at].count(b'"outcome":"sent"') == 1
    lines[at] = lines[at].replace(b'"outcome":"sent"', b'"outcome":"SENT"')
    log_file.write_bytes(b"\n".join(lines))

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
        await bot_reply(slack, thread, "restart_service` finished")
        await until(
            lambda: (
                "Approved by <@U0BOB>" in outcome_text(slack.message(channel=OPS, ts=card["ts"]))
            ),
            what="the card showing the decision",
        )
        await bot.engine.idle()
    assert not has_buttons(slack.message(channel=OPS, ts=card["ts"]))
    # Its later versions went out too, and the damaged result was named once, not per send.
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum(posted in w for w in warnings) == 1, warnings
    assert not [w for w in warnings if "cannot deliver" in w], warnings
