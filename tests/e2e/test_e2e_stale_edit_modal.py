"""Edit modals left open while the request moved on: a second editor's submission, and one
after the decision, are refused with a word to the person in the form, never applied."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signoff_e2e_kit import (
    OPS,
    approvals_dir,
    asked_under,
    decision,
    ephemeral,
    form_says,
    scales,
    until,
    write_policy,
)

from approvals import args_sha256
from bot.card_governance import EDIT
from bot.config import Settings
from bot.edit_modal import EDIT_MODAL
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

QUORUM = '[tools.scale_service]\napprovers = ["U0BOB", "U0CAROL"]\nquorum = 2\n'


def _values(replicas: int) -> dict[str, dict[str, object]]:
    return {"arg:service": {"value": "api"}, "arg:replicas": {"value": str(replicas)}}


async def test_stale_edit_modals_are_refused_with_a_word_never_applied(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", QUORUM)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "scale api to 12")
    home = settings.home
    for user in ("U0BOB", "U0CAROL"):  # two modals open on the call as asked
        await slack.click_button(channel=OPS, ts=card["ts"], user=user, action_id=EDIT)

        def opened(u: str = user) -> list[dict[str, Any]]:
            return slack.open_views(user=u)

        await until(opened, what=f"{user}'s edit modal")

    # Carol submits first: her edit is recorded (1 of 2).
    await slack.submit_view(user="U0CAROL", callback_id=EDIT_MODAL, values=_values(6))
    await ephemeral(slack, "U0CAROL", "Your edit is recorded")
    # Bob's modal still shows the call as asked: his edit is refused, not merged.
    await slack.submit_view(user="U0BOB", callback_id=EDIT_MODAL, values=_values(4))
    told = await form_says(slack, "U0BOB", "changed the arguments while you were editing")
    assert "look at the card again" in json.dumps(told["blocks"])
    await bot.engine.idle()
    directory = approvals_dir(home, approval)
    assert not (directory / f"{approval}.edit-2.json").exists()
    edit = json.loads((directory / f"{approval}.edit-1.json").read_text())
    assert edit["user"] == "U0CAROL" and edit["arguments"]["replicas"] == 6
    assert decision(home, approval) is None

    # Bob opens the form again, on the edited call; before he submits it, his own click
    # elsewhere (the Home tab, a terminal) approves that call: decided, it runs once.
    await until(
        lambda: "Edited" in json.dumps(slack.message(channel=OPS, ts=card["ts"])),
        what="the card showing the edit",
    )
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=EDIT)

    def edit_modals() -> list[dict[str, Any]]:  # his first form now only says why
        return [v for v in slack.open_views(user="U0BOB") if v["callback_id"] == EDIT_MODAL]

    await until(edit_modals, what="Bob's second edit modal")
    edited = args_sha256("scale_service", {"service": "api", "replicas": 6})
    assert await bot.engine.decide(approval, user="U0BOB", approve=True, seen_sha256=edited)
    await until(lambda: scales(home), what="the edited call")
    # The modal left open says it is decided; nothing else is written or run.
    await slack.submit_view(user="U0BOB", callback_id=EDIT_MODAL, values=_values(2))
    await form_says(slack, "U0BOB", "You may not edit this request: it was already decided")
    await bot.engine.idle()
    (ran,) = scales(home)
    assert ran["replicas"] == 6 and not (directory / f"{approval}.edit-2.json").exists()
