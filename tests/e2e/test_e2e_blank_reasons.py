"""A required reason left blank (spaces and newlines pass Slack's own check): the modal
stays open with the problem on the reason, instead of closing on a refusal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from signoff_e2e_kit import (
    OPS,
    asked_under,
    decision,
    ephemeral_texts,
    existing_decision,
    until,
    write_policy,
)

from bot.cards import APPROVE, DENY
from bot.config import Settings
from bot.reason_modal import APPROVE_MODAL, DENY_MODAL
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

REASONS = '[tools.restart_service]\napprovers = ["U0BOB", "U0CAROL"]\nrequire_reason = true\n'
BLANK: dict[str, dict[str, object]] = {"reason": {"reason": "  \n\t "}}


async def test_a_blank_required_reason_keeps_the_modal_open_with_the_problem_on_it(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    """Before, the modal closed and the person was told "You may not decide this request:
    this tool needs a reason…", and had to click again to type one."""
    policy = write_policy(tmp_path / "policy.toml", REASONS)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    home = settings.home

    for user, action, callback in (
        ("U0BOB", APPROVE, APPROVE_MODAL),
        ("U0CAROL", DENY, DENY_MODAL),
    ):
        await slack.click_button(channel=OPS, ts=card["ts"], user=user, action_id=action)

        def views(u: str = user) -> list[dict[str, Any]]:
            return slack.open_views(user=u)

        def with_errors(u: str = user) -> list[dict[str, Any]]:
            return [v for v in slack.open_views(user=u) if v["errors"]]

        await until(views, what=f"{user}'s modal")
        await slack.submit_view(user=user, callback_id=callback, values=BLANK)

        (still,) = await until(with_errors, what=f"the problem on {user}'s reason")
        assert set(still["errors"]) == {"reason"} and "reason" in still["errors"]["reason"]
        await bot.engine.idle()
        assert decision(home, approval) is None
        assert not any("may not decide" in t for t in ephemeral_texts(slack, user))

    # The same modal, with a reason now, decides.
    await slack.submit_view(
        user="U0BOB", callback_id=APPROVE_MODAL, values={"reason": {"reason": "api is wedged"}}
    )
    made = await until(lambda: decision(home, approval), what="the approval")
    assert made["verdict"] == "approved" and made["reason"] == "api is wedged"
    await bot.engine.idle()
    assert existing_decision(home, approval)["deciders"] == ["U0BOB"]
