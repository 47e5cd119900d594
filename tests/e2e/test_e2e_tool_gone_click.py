"""An Approve click on a card whose tool has left the bot's configuration since it was
asked is refused, with the reason, told in the card's thread once; nothing is recorded, and
Deny still closes it.

The approval used to be recorded ("Approved by @bob") and the call then failed its checks
at the start ("the tool … is no longer registered"): an approval spent on nothing, a card
that read as a decision to run, and an approver told nothing at the click. A tool whose
MCP server is merely down is not "gone" (its version is ``unlisted``): that call is
approved and waits for the server, as before (``test_e2e_mcp_tools.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from conftest import restart
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    bot_messages,
    bot_reply,
    decision,
    ephemeral,
    has_buttons,
    mention,
    until,
    wait_card,
    write_policy,
)

from bot.cards import APPROVE, DENY
from bot.config import Settings
from bot.reason_modal import DENY_MODAL
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory


async def test_approve_of_a_call_whose_tool_left_the_config_is_refused_and_deny_closes_it(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    # Restarted without the simulated fleet: restart_service is no tool of the bot's now.
    bot = await restart(bot, start_bot, slack, demo_tools=False)

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    told = await ephemeral(slack, "U0BOB", "You cannot approve this request")
    assert "restart_service is no longer among signoff's tools" in told["text"], told
    # The card's thread says it too, once, for whoever reads the card next.
    note = await bot_reply(slack, thread, "cannot be approved")
    assert "restart_service" in note["text"] and "no longer among" in note["text"]
    await bot.engine.idle()
    assert decision(settings.home, approval) is None  # nothing spent, nothing approved
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await ephemeral(slack, "U0CAROL", "no longer among signoff's tools")
    await bot.engine.idle()
    assert len(bot_messages(slack, thread, "cannot be approved")) == 1

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=DENY)
    await until(lambda: slack.open_views(user="U0BOB"), what="the deny's reason form")
    await slack.submit_view(
        user="U0BOB", values={"reason": {"reason": "tool is gone"}}, callback_id=DENY_MODAL
    )
    await until(lambda: decision(settings.home, approval), what="the deny")
    assert decision(settings.home, approval)["verdict"] == "denied"  # type: ignore[index]


async def test_approve_that_asks_a_reason_is_refused_before_its_form_opens(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", "[default]\nrequire_reason = true\n")
    bot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    bot = await restart(bot, start_bot, slack, demo_tools=False, policy_path=policy)

    # Not a form to fill in and then be refused: told at the click.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    told = await ephemeral(slack, "U0BOB", "You cannot approve this request")
    assert "restart_service is no longer among signoff's tools" in told["text"], told
    await bot.engine.idle()
    assert slack.open_views(user="U0BOB") == []
    assert decision(settings.home, approval) is None
