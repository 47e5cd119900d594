"""What a person is told after a click no other test follows through the wire: one on a
card whose expiry passed before the sweep came, an Approve or Deny there, a second
Approve by someone whose vote already counts, and a late click on an approval that went
stale (it was approved, but never ran: "approved" alone would read as if it had).

docs/slack.md: "Refused, late and double clicks get an ephemeral message in the card's
thread and leave the request as it was."
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import (
    OPS,
    asked_under,
    bot_reply,
    decision,
    ephemeral,
    ephemeral_texts,
    existing_decision,
    has_buttons,
    outcome_text,
    restarts,
    stale_click,
    until,
    write_policy,
)

from bot.card_governance import EDIT
from bot.cards import APPROVE, DENY
from bot.config import Settings
from localslack import LocalSlack
from sessions import FixedClock

if TYPE_CHECKING:
    from conftest import BotFactory

BOB_ONLY = '[tools.restart_service]\napprovers = ["U0BOB"]\n'
VALID_1H = '[tools.restart_service]\napprovers = ["U0BOB", "U0CAROL"]\nvalid_for = "1h"\n'
TWO_NEEDED = '[tools.restart_service]\napprovers = ["U0BOB", "U0DAVE"]\nquorum = 2\n'


@pytest.mark.parametrize("action", [APPROVE, DENY])
async def test_a_click_after_the_expiry_before_the_sweep_is_told_it_expired(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
    action: str,
) -> None:
    policy = write_policy(tmp_path / "policy.toml", BOB_ONLY)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    await bot.engine.idle()
    e2e_clock.advance(timedelta(days=2))  # past the default 24 h; no sweep yet
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=action)
    told = await ephemeral(slack, "U0BOB", "Already decided")
    assert told["text"].startswith("Already decided: expired"), told["text"]
    await bot_reply(slack, thread, "was not run")
    await bot.engine.idle()
    assert slack.calls("views.open") == []  # no deny form for a request already over
    assert existing_decision(settings.home, approval)["verdict"] == "expired"
    locked = slack.message(channel=OPS, ts=card["ts"])
    assert not has_buttons(locked) and "Expired" in outcome_text(locked)
    assert restarts(settings.home) == 0
    assert len(ephemeral_texts(slack, "U0BOB")) == 1


async def test_a_second_approve_by_the_same_person_is_told_it_needs_someone_else(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", TWO_NEEDED)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "Your approval is counted: 1 of 2.")
    await until(
        lambda: "1 of 2 approvals" in str(slack.message(channel=OPS, ts=card["ts"])),
        what="the card's progress",
    )
    card_now = slack.message(channel=OPS, ts=card["ts"])
    assert card_now is not None
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    again = await ephemeral(slack, "U0BOB", "already approved")
    assert again["text"] == "You already approved this request; it needs someone else too."
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))
    assert restarts(settings.home) == 0
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0DAVE", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    assert restarts(settings.home) == 1


async def test_a_late_click_on_a_stale_approval_is_not_told_only_that_it_was_approved(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    policy = write_policy(tmp_path / "policy.toml", VALID_1H)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    (settings.home / "KILL").touch()  # approved, frozen before it starts
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: decision(settings.home, approval), what="the decision")
    await bot.engine.idle()
    e2e_clock.advance(timedelta(hours=2))
    (settings.home / "KILL").unlink()
    await bot.engine.sweep()
    await bot_reply(slack, thread, "went stale")
    await bot.engine.idle()
    assert "Stale" in outcome_text(slack.message(channel=OPS, ts=card["ts"]))
    # Carol's client still shows the open card.
    await stale_click(
        slack, ts=card["ts"], user="U0CAROL", action_id=APPROVE, blocks=card["blocks"]
    )
    told = await ephemeral(slack, "U0CAROL", "Already decided")
    assert "stale" in told["text"] and "did not run" in told["text"], told["text"]
    assert restarts(settings.home) == 0
    # A Deny on it is told the same (through the decision, never "You may not decide
    # this request: it was already decided: approved", which reads as if the call ran),
    # and opens no deny form.
    await stale_click(slack, ts=card["ts"], user="U0CAROL", action_id=DENY, blocks=card["blocks"])
    (denied,) = await until(
        lambda: [e["text"] for e in slack.ephemeral_messages(user="U0CAROL")][1:],
        what="the answer to the Deny",
    )
    assert denied.startswith("Already decided: approved") and "did not run" in denied, denied
    assert slack.open_views(user="U0CAROL") == []
    # So is an Edit on it.
    await stale_click(slack, ts=card["ts"], user="U0CAROL", action_id=EDIT, blocks=card["blocks"])
    (edit,) = await until(
        lambda: [e["text"] for e in slack.ephemeral_messages(user="U0CAROL")][2:],
        what="the answer to the Edit",
    )
    assert edit.startswith("You may not edit this request: ") and "did not run" in edit, edit
