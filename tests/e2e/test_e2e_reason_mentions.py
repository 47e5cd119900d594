"""Reasons are people's text: an edit's and an approval's reason full of mentions reaches
the card, the thread and the model, and pings nobody."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from signoff_e2e_kit import (
    OPS,
    asked_under,
    bot_reply,
    existing_decision,
    scales,
    until,
    write_policy,
)
from test_e2e_edit import open_edit_modal

from bot.cards import APPROVE
from bot.config import Settings
from bot.edit_modal import EDIT_MODAL
from bot.reason_modal import APPROVE_MODAL
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

POLICY = (
    '[tools.scale_service]\napprovers = ["U0BOB", "U0CAROL"]\nquorum = 2\nrequire_reason = true\n'
)
PINGS = "<!channel> <!here> <!everyone> <!subteam^S0OPS> <@U0DAVE>"
LOUD = ("<!channel", "<!here", "<!everyone", "<!subteam", "<@U0DAVE")


async def test_reasons_full_of_mentions_are_shown_and_ping_nobody(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", POLICY)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "scale api to 12")

    await open_edit_modal(slack, card, "U0BOB")
    await slack.submit_view(
        user="U0BOB",
        callback_id=EDIT_MODAL,
        values={
            "arg:service": {"value": "api"},
            "arg:replicas": {"value": "8"},
            "reason": {"reason": f"edit {PINGS}"},
        },
    )
    await until(lambda: not slack.open_views(user="U0BOB"), what="the edit accepted")
    await bot.engine.idle()
    shown = slack.message(channel=OPS, ts=card["ts"])
    assert shown is not None
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await until(lambda: slack.open_views(user="U0CAROL"), what="Carol's reason modal")
    await slack.submit_view(
        user="U0CAROL", callback_id=APPROVE_MODAL, values={"reason": {"reason": f"ok {PINGS}"}}
    )
    await bot_reply(slack, thread, "scale_service` finished")
    await bot_reply(slack, thread, "replicas: 12 → 8")
    await bot.engine.idle()
    (ran,) = scales(settings.home)
    assert ran["replicas"] == 8
    made = existing_decision(settings.home, approval)
    assert made["deciders"] == ["U0BOB", "U0CAROL"] and made["verdict"] == "approved"

    sent = [
        json.dumps(call.args, ensure_ascii=False)
        for call in slack.calls()
        if call.method.startswith(("chat.", "views.")) and call.ok
    ]
    assert any("edit &lt;!channel&gt;" in s for s in sent), "the edit's reason is shown"
    assert any("ok &lt;!channel&gt;" in s for s in sent), "the approval's reason is shown"
    for text in sent:
        for loud in LOUD:
            assert loud not in text, f"{loud} reached Slack: {text[:300]}"
