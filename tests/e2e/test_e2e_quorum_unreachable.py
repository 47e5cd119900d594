"""A quorum the requester's own exclusion makes unreachable is refused at the request.

``approvers = [Alice, Bob]``, ``quorum = 2``: the policy loads (two names, two approvals),
but when Alice asks, only Bob may approve, and the captured rule keeps it so whatever
the policy becomes. Such a request used to get a card nobody could complete, waiting
silently until it expired a day later. Now the call is refused at the gate, as a result
the model relays in the thread, and nothing is parked. A request the rule can complete
(someone else asks, self-approval is allowed, an escalation adds enough people) still
gets its card.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import restart
from signoff_e2e_kit import (
    OPS,
    asked_under,
    bot_reply,
    existing_message,
    mention,
    restarts,
    session_states,
    until,
    wait_card,
    write_policy,
)

from bot.config import Settings
from localslack import LocalSlack
from sessions import FixedClock

if TYPE_CHECKING:
    from conftest import BotFactory

ALICE_AND_BOB = """
[tools.restart_service]
approvers = ["U0ALICE", "U0BOB"]
quorum = 2
"""


def _capsules(home: Path) -> list[Path]:
    return list((home / "approvals").glob("*/appr_*"))


async def test_a_quorum_the_requester_cannot_be_part_of_is_refused_at_the_request(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    bot = await start_bot(policy_path=write_policy(tmp_path / "policy.toml", ALICE_AND_BOB))
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api", user="U0ALICE")
    told = await bot_reply(slack, thread, "could never be approved")
    assert "2 approvals" in told["text"] and "U0BOB" in told["text"]
    await bot.engine.idle()
    # Nothing waits: no capsule, no card, the session ended, the fleet untouched.
    assert _capsules(settings.home) == []
    assert "Approval needed" not in str(slack.thread(channel=OPS, ts=thread))
    assert set(session_states(settings.home).values()) == {"completed"}
    assert restarts(settings.home) == 0


@pytest.mark.parametrize(
    ("extra", "asker"),
    [
        ("", "U0CAROL"),  # someone else asks: Alice and Bob may both approve
        ('escalate_after = "2h"\nescalate_to = ["U0CAROL"]\n', "U0ALICE"),  # Carol later
        ("allow_self_approval = true\n", "U0ALICE"),  # Alice may approve her own
    ],
    ids=["another-asks", "escalation-adds-enough", "self-approval"],
)
async def test_a_rule_that_can_be_completed_still_asks(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    extra: str,
    asker: str,
) -> None:
    await start_bot(policy_path=write_policy(tmp_path / "policy.toml", ALICE_AND_BOB + extra))
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api", user=asker)
    await wait_card(slack, thread)
    assert len(_capsules(settings.home)) == 1


def _card_text(slack: LocalSlack, ts: str) -> str:
    return json.dumps(existing_message(slack, channel=OPS, ts=ts)["blocks"], ensure_ascii=False)


async def test_a_waiting_card_a_policy_change_put_out_of_reach_says_so(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    # Bob and Carol, two of them; Alice asks. Then the policy names Alice and Bob: of both
    # rules, and the requester set aside, Bob alone may decide, and it takes two. The card showed "@bob (2 needed)"
    # with its buttons, and waited for an approval nobody could give until it expired.
    policy = write_policy(tmp_path / "policy.toml", ALICE_AND_BOB.replace("U0ALICE", "U0CAROL"))
    bot, _, card, _ = await asked_under(slack, start_bot, policy, "restart api")
    assert "cannot be approved" not in _card_text(slack, card["ts"])
    write_policy(policy, ALICE_AND_BOB)
    await restart(bot, start_bot, slack, policy_path=policy)
    shown = await until(
        lambda: "cannot be approved" in _card_text(slack, card["ts"]),
        what="the card to say it cannot be approved",
    )
    assert shown
    text = _card_text(slack, card["ts"])
    assert "2 approvals" in text and "U0BOB" in text


async def test_an_escalation_due_after_the_request_expires_does_not_count_at_the_request(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    # Carol would be added after 2 days, but the request expires after one: she never is,
    # so Alice's request could never reach two approvals and is refused at the gate.
    late = ALICE_AND_BOB + 'escalate_after = "2d"\nescalate_to = ["U0CAROL"]\n'
    await start_bot(policy_path=write_policy(tmp_path / "policy.toml", late))
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api", user="U0ALICE")
    told = await bot_reply(slack, thread, "could never be approved")
    assert "U0BOB" in told["text"] and "U0CAROL" in told["text"]
    assert _capsules(settings.home) == []


async def test_a_card_whose_escalation_the_policy_in_force_dropped_says_it_is_out_of_reach(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    # Alice and Bob, two of them, Carol added in 2h; Alice asks: Bob and Carol can reach
    # it. Then the policy drops the escalation: it will add nobody (an escalation adds only
    # whom the rule in force still escalates to), so Bob alone may approve, and it takes
    # two. The card counted Carol from the captured rule and kept its buttons, silent.
    escalating = ALICE_AND_BOB + 'escalate_after = "2h"\nescalate_to = ["U0CAROL"]\n'
    policy = write_policy(tmp_path / "policy.toml", escalating)
    bot, _, card, _ = await asked_under(slack, start_bot, policy, "restart api")
    assert "cannot be approved" not in _card_text(slack, card["ts"])
    write_policy(policy, ALICE_AND_BOB)
    await restart(bot, start_bot, slack, policy_path=policy)
    await until(
        lambda: "cannot be approved" in _card_text(slack, card["ts"]),
        what="the card to say it cannot be approved",
    )
    assert "U0BOB" in _card_text(slack, card["ts"])


async def test_a_card_whose_escalated_approver_the_policy_dropped_says_it_is_out_of_reach(
    slack: LocalSlack, start_bot: BotFactory, e2e_clock: FixedClock, tmp_path: Path
) -> None:
    # As above, but the escalation came first and added Carol; then the policy drops her.
    # A click of hers is refused (the rule in force no longer escalates to her), so Bob
    # alone may approve: the card counted her from the escalation's record, silent.
    escalating = ALICE_AND_BOB + 'escalate_after = "2h"\nescalate_to = ["U0CAROL"]\n'
    policy = write_policy(tmp_path / "policy.toml", escalating)
    bot, _, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    e2e_clock.advance(timedelta(hours=3))
    await bot.engine.sweep()
    await bot.engine.idle()
    assert "cannot be approved" not in _card_text(slack, card["ts"])
    write_policy(policy, ALICE_AND_BOB)
    await restart(bot, start_bot, slack, policy_path=policy)
    await until(
        lambda: "cannot be approved" in _card_text(slack, card["ts"]),
        what="the card to say it cannot be approved",
    )
