"""A card still waiting when the policy changes shows the rules in force, through the wire.

A decision counts approvals under both the captured rule and the rule in force (the
larger quorum, approvers both allow), and so does the card: but a card is rendered only
when something happens to its request. Before, a policy changed across a restart (an
approver added, a quorum raised) left every waiting card saying what it said when it was
posted, until someone clicked: "Approvers: @bob, @carol" on a request Carol could no
longer decide and Bob alone could not approve. Now the first start under a new policy shows again each waiting card whose tool's
rule changed, and only those.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from signoff_e2e_kit import (
    OPS,
    asked_under,
    existing_message,
    has_buttons,
    mention,
    until,
    wait_card,
    write_policy,
)

from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

BOB_AND_CAROL = '[tools.restart_service]\napprovers = ["U0BOB", "U0CAROL"]\n'
BOB_TWICE = '[tools.restart_service]\napprovers = ["U0BOB", "U0DAVE"]\nquorum = 2\n'


def _fields(message: dict[str, object]) -> str:
    return str(message["blocks"])


async def test_a_waiting_card_shows_the_rules_of_a_policy_changed_across_a_restart(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    bot, _, card, _ = await asked_under(
        slack, start_bot, write_policy(tmp_path / "before.toml", BOB_AND_CAROL), "restart api"
    )
    assert "U0CAROL" in _fields(card)
    # A card of a tool whose rule stays as it was (the default's).
    other = await mention(slack, "scale api to 3")
    other_card = await wait_card(slack, other)
    await bot.stop(grace=5)
    updates_before = len(slack.calls(method="chat.update"))

    # Carol is no approver any more, and it takes two: of both rules, Bob alone may decide.
    bot = await start_bot(policy_path=write_policy(tmp_path / "after.toml", BOB_TWICE))
    await slack.wait_for_sockets(1, timeout=5)

    def refreshed() -> dict[str, object] | None:
        message = existing_message(slack, channel=OPS, ts=card["ts"])
        return None if "U0CAROL" in _fields(message) else message

    shown = await until(refreshed, what="the card to show the new rules")
    assert "<@U0BOB> (2 needed)" in _fields(shown), _fields(shown)
    assert has_buttons(shown)
    await bot.engine.idle()
    updated = [c for c in slack.calls(method="chat.update")][updates_before:]
    assert [c.args.get("ts") for c in updated] == [card["ts"]]
    assert existing_message(slack, channel=OPS, ts=other_card["ts"]) == other_card
