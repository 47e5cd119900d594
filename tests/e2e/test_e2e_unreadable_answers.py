"""A form or a command Slack sends that signoff cannot read is answered, not acked in silence.

JSON can carry a lone surrogate (``\\ud800``), and a reason typed into the Deny modal
reached the socket as one: the submission was quarantined (nothing can store it) and acked
empty, which closes the modal, so the person believed they had denied the request. Now the
modal stays open with the problem on the field that holds it, and a form unreadable for any
other reason is replaced by one that says nothing was recorded and where it was kept. A
command that could not be read vanished without a word; now its sender is told the same.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from signoff_e2e_kit import OPS, asked_under, decision, quarantined, until, write_policy

from bot.app import SignoffBot
from bot.cards import DENY
from bot.config import Settings
from bot.reason_modal import DENY_MODAL
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

POLICY = '[tools.restart_service]\napprovers = ["U0CAROL"]\n'


async def deny_modal_open(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> tuple[SignoffBot, str]:
    """A bot whose request's Deny modal U0CAROL has open: (the bot, the approval id)."""
    policy = write_policy(tmp_path / "policy.toml", POLICY)
    bot, _thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=DENY)
    await until(lambda: slack.open_views(user="U0CAROL"), what="the deny modal")
    return bot, approval


async def test_a_reason_that_is_not_text_keeps_the_modal_open_with_the_problem_on_it(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    bot, approval = await deny_modal_open(slack, start_bot, tmp_path)

    await slack.submit_view(
        user="U0CAROL", callback_id=DENY_MODAL, values={"reason": {"reason": "no \ud800 way"}}
    )

    def with_errors() -> list[dict[str, Any]]:
        return [v for v in slack.open_views(user="U0CAROL") if v["errors"]]

    (still,) = await until(with_errors, what="the problem on the reason")
    assert set(still["errors"]) == {"reason"}
    assert "type it again" in still["errors"]["reason"]
    assert len(still["errors"]["reason"]) <= 150  # Slack's limit for an error
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    # Kept for an operator all the same: it is what Slack sent.
    assert [r["source"] for r in quarantined(settings.home)] == ["interactive"]

    # Typed again, the same modal denies.
    await slack.submit_view(
        user="U0CAROL", callback_id=DENY_MODAL, values={"reason": {"reason": "no way"}}
    )
    made = await until(lambda: decision(settings.home, approval), what="the denial")
    assert made["verdict"] == "denied" and made["reason"] == "no way"
    assert not slack.open_views(user="U0CAROL")


async def test_a_form_unreadable_otherwise_says_nothing_was_recorded_and_where_it_was_kept(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    bot, approval = await deny_modal_open(slack, start_bot, tmp_path)

    # The submission as Slack would send it, but for a user id no Slack id looks like.
    (view,) = slack.open_views(user="U0CAROL")
    state = {"values": {"reason": {"reason": {"type": "plain_text_input", "value": "no"}}}}
    sent = await slack.send_envelope(
        type="interactive",
        payload={
            "type": "view_submission",
            "team": {"id": "T0LOCAL", "domain": "local"},
            "user": {"id": "not a user", "team_id": "T0LOCAL"},
            "api_app_id": "A0SIGNOFF",
            "trigger_id": "1.2.3",
            "view": {
                **{k: v for k, v in view.items() if k not in ("user", "errors")},
                "state": state,
            },
        },
    )
    done = await slack.wait_for_ack(sent.envelope_id, timeout=5)
    answer = done.ack_payload or {}
    assert answer.get("response_action") == "update", answer
    shown = str(answer["view"])
    assert "nothing was recorded" in shown
    (kept,) = quarantined(settings.home)
    assert kept["id"] in shown
    await bot.engine.idle()
    assert decision(settings.home, approval) is None


async def test_a_form_nested_past_the_stack_is_still_acked_with_its_answer(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A value nested 600 deep under an input block: JSON and the quarantine carry it, but
    # looking for a surrogate in it by recursion overflowed the stack, and the envelope
    # was never acked (the SDK logged a traceback), where before the answer it was.
    caplog.set_level(logging.DEBUG, logger="signoff")
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    deep: Any = "x"
    for _ in range(600):
        deep = [deep]
    sent = await slack.send_envelope(
        type="interactive",
        payload={
            "type": "view_submission",
            "user": {"id": "U0CAROL", "team_id": "T0LOCAL"},
            "view": {
                "callback_id": DENY_MODAL,
                "blocks": [{"type": "input", "block_id": "reason"}],
                "state": {"values": {"reason": {"reason": {"value": deep}}}},
            },
        },
    )
    done = await slack.wait_for_ack(sent.envelope_id, timeout=5)
    answer = done.ack_payload or {}
    assert answer.get("response_action") == "update", answer
    (kept,) = quarantined(settings.home)
    assert kept["id"] in str(answer["view"])
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("signoff")]
    assert len([line for line in lines if "quarantined" in line]) == 1, lines


async def test_a_command_typed_with_a_lone_surrogate_is_answered_in_slack_to_its_sender(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    # Through Slack's own command path (not a raw envelope): the ack's body is what Slack
    # shows, and only to the person who typed it.
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    sent = await slack.slash_command(
        command="/signoff", user="U0BOB", channel=OPS, text="trace \ud800"
    )
    done = await slack.wait_for_ack(sent.envelope_id, timeout=5)
    assert not done.timed_out and not done.user_saw_error
    told = await slack.wait_for_ephemeral(user="U0BOB", text_contains="could not read")
    (kept,) = quarantined(settings.home)
    assert kept["source"] == "slash_commands" and kept["id"] in told["text"]
    assert slack.ephemeral_messages(user="U0CAROL") == []
