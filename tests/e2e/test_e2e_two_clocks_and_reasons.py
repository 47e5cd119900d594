"""The second clock (an approval that could not start in time goes stale, never runs) and
required reasons (Approve opens a modal; reasons reach the card, the trace and the model).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signoff_e2e_kit import (
    OPS,
    asked_under,
    bot_messages,
    bot_reply,
    cards,
    decision,
    existing_decision,
    existing_message,
    has_buttons,
    lineage,
    mention,
    outcome_text,
    restarts,
    until,
    wait_card,
    write_policy,
)

from bot.cards import APPROVE, DENY
from bot.config import Settings
from bot.reason_modal import APPROVE_MODAL, DENY_MODAL
from localslack import LocalSlack
from sessions import FixedClock

if TYPE_CHECKING:
    from conftest import BotFactory


VALID_1H = '[tools.restart_service]\napprovers = ["U0BOB"]\nvalid_for = "1h"\n'
REASONS = '[tools.restart_service]\napprovers = ["U0BOB", "U0CAROL"]\nrequire_reason = true\n'


def fields_text(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


async def test_an_approval_that_could_not_start_in_time_goes_stale_and_never_runs(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    policy = write_policy(tmp_path / "policy.toml", VALID_1H)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    home = settings.home
    shown = fields_text(card)
    assert "*Expires*" in shown and "*Valid after approval*\\n1h" in shown  # both clocks

    # The kill switch freezes the approved call: approved, not started.
    (home / "KILL").touch()
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: decision(home, approval), what="the decision")
    await bot.engine.idle()
    made = existing_decision(home, approval)
    assert made["verdict"] == "approved" and made["valid_until"] > made["at"]
    await until(
        lambda: "Must start by" in fields_text(existing_message(slack, channel=OPS, ts=card["ts"])),
        what="the card's deadline",
    )
    assert restarts(home) == 0

    # Two hours later, after a restart, the switch comes off: too late to start.
    await bot.stop(grace=5)
    await until(lambda: not slack.sockets(), what="the old bot's socket to close")
    e2e_clock.advance(timedelta(hours=2))
    bot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    (home / "KILL").unlink()
    await bot.engine.sweep()
    note = await bot_reply(slack, thread, "went stale")
    assert "<@U0BOB>" in note["text"] and "A fresh request is needed" in note["text"]
    told = await bot_reply(slack, thread, "was not run")  # the model's answer
    assert "went stale" in told["text"]
    await bot.engine.idle()
    stale_card = slack.message(channel=OPS, ts=card["ts"])
    assert not has_buttons(stale_card) and "Stale" in outcome_text(stale_card)
    stale_file = home.glob(f"sessions/*/*/approvals/{approval}.stale.json")
    assert len(list(stale_file)) == 1
    assert not list(home.glob(f"sessions/*/*/approvals/{approval}.claim.json"))
    assert restarts(home) == 0

    # Sweeps and restarts later, it still never runs; a fresh request is a new card.
    await bot.engine.sweep()
    await bot.engine.idle()
    await slack.post_message(channel=OPS, user="U0ALICE", text="restart api", thread_ts=thread)
    fresh = await until(lambda: len(cards(slack, thread)) == 2 and cards(slack, thread)[-1])
    await slack.click_button(channel=OPS, ts=fresh["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    await bot.engine.idle()
    assert restarts(home) == 1
    assert len(bot_messages(slack, thread, "⌛ The approval of `restart_service`")) == 1


async def test_a_required_reason_opens_a_modal_and_reaches_card_trace_and_model(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", REASONS)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    home = settings.home
    approve_button = card["blocks"][-1]["elements"][0]
    assert "confirm" not in approve_button  # the modal is the confirmation

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    (modal,) = await until(lambda: slack.open_views(user="U0BOB"), what="the approve modal")
    assert modal["callback_id"] == APPROVE_MODAL and modal["private_metadata"] == approval
    (reason_block,) = [b for b in modal["blocks"] if b["type"] == "input"]
    assert reason_block["optional"] is False
    await bot.engine.idle()
    assert decision(home, approval) is None  # nothing until the reason is given

    await slack.submit_view(
        user="U0BOB", callback_id=APPROVE_MODAL, values={"reason": {"reason": "api is wedged"}}
    )
    told = await bot_reply(slack, thread, "api is wedged")  # the model heard it
    assert "<@U0BOB>" in told["text"]
    await bot.engine.idle()
    assert restarts(home) == 1
    assert existing_decision(home, approval)["reason"] == "api is wedged"
    outcome = outcome_text(slack.message(channel=OPS, ts=card["ts"]))
    assert "Approved by <@U0BOB>" in outcome and "api is wedged" in outcome
    events = [
        json.loads(line)
        for sid in lineage(home, thread)
        for line in (home / "sessions" / sid[5:7] / sid / "trace.jsonl").read_text().splitlines()
    ]
    (applied,) = [e for e in events if e["kind"] == "decision_applied"]
    assert applied["data"]["reason"] == "api is wedged"
    assert applied["data"]["reasons"] == [{"user": "U0BOB", "reason": "api is wedged"}]

    # Deny asks for a reason too, and now it is required.
    other = await mention(slack, "restart web")
    second = await wait_card(slack, other)
    await slack.click_button(channel=OPS, ts=second["ts"], user="U0CAROL", action_id=DENY)
    (deny,) = await until(lambda: slack.open_views(user="U0CAROL"), what="the deny modal")
    assert deny["callback_id"] == DENY_MODAL
    (required,) = [b for b in deny["blocks"] if b["type"] == "input"]
    assert required["optional"] is False
