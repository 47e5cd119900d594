"""A form or a command Slack sends that signoff cannot read is answered, not acked in silence.

JSON can carry a lone surrogate (``\\ud800``), and a reason typed into the Deny modal
reached the socket as one: the submission was quarantined (nothing can store it) and acked
empty, which closes the modal, so the person believed they had denied the request. Now the
modal stays open with the problem on the field that holds it, and a form unreadable for any
other reason is replaced by one that says nothing was recorded and where it was kept. A
command that could not be read vanished without a word; now its sender is told the same.
A click (Slack shows nothing for its ack) is told to the person who clicked, beside what
they clicked: ephemerally in its channel and thread, or by direct message from the Home tab.
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
    # The decision is recorded before the ack that closes the modal goes out.
    await until(lambda: not slack.open_views(user="U0CAROL"), what="the modal closed")


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


def _click(user: str, **where: Any) -> dict[str, Any]:
    """A click as Slack sends one (its reference's ``block_actions``), but whose action id
    signoff cannot read (a list): what a change of shape on Slack's side would look like."""
    return {
        "type": "block_actions",
        "team": {"id": "T0LOCAL", "domain": "local"},
        "user": {"id": user, "username": "carol", "team_id": "T0LOCAL"},
        "api_app_id": "A0SIGNOFF",
        "token": "verification-token",
        "trigger_id": "12466734323.1395872398.3fd5e2c4fb2ab1e2e7f2b3bc4b1a8c97",
        "actions": [
            {"action_id": ["approve"], "block_id": "decide", "type": "button", "action_ts": "1.2"}
        ],
        **where,
    }


def _told_line(caplog: pytest.LogCaptureFixture, kept: str, saying: str) -> list[str]:
    """The socket's lines about telling the sender of quarantine record ``kept``."""
    lines = [r.getMessage() for r in caplog.records if r.name == "signoff.socket"]
    return [line for line in lines if kept in line and saying in line]


async def test_a_click_that_cannot_be_read_is_told_beside_the_card_and_decides_nothing(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", POLICY)
    bot, _thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    before = slack.message(channel=OPS, ts=card["ts"])
    thread_ts = card.get("thread_ts", card["ts"])
    container = {
        "type": "message",
        "message_ts": card["ts"],
        "channel_id": OPS,
        "is_ephemeral": False,
        "thread_ts": thread_ts,
    }
    sent = await slack.send_envelope(
        type="interactive",
        payload=_click("U0CAROL", container=container, channel={"id": OPS, "name": "ops"}),
    )
    done = await slack.wait_for_ack(sent.envelope_id, timeout=5)
    assert not done.timed_out and not done.user_saw_error

    told = await slack.wait_for_ephemeral(user="U0CAROL", text_contains="could not read this")
    (kept,) = quarantined(settings.home)
    assert kept["id"] in told["text"] and "nothing was decided" in told["text"]
    assert told["channel"] == OPS and told.get("thread_ts") == thread_ts
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    # The card is as it was: still open, which is the truth.
    assert slack.message(channel=OPS, ts=card["ts"]) == before
    assert slack.ephemeral_messages(user="U0BOB") == []


async def test_a_home_tab_click_that_cannot_be_read_is_told_by_direct_message(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    container = {"type": "view", "view_id": "V0HOME"}
    sent = await slack.send_envelope(
        type="interactive", payload=_click("U0CAROL", container=container)
    )
    await slack.wait_for_ack(sent.envelope_id, timeout=5)
    dm = await slack.wait_for_message(text_contains="could not read this", from_bot=True)
    (kept,) = quarantined(settings.home)
    assert kept["id"] in dm["text"]
    assert dm["channel"].startswith("D")
    assert [c for c in slack.calls("chat.postMessage") if c.args.get("channel") == "U0CAROL"]


async def test_an_unreadable_click_from_no_one_slack_could_name_tells_no_one(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A user id no Slack id looks like: kept for an operator, and nothing is posted.
    caplog.set_level(logging.INFO, logger="signoff")
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    where = {"channel": {"id": OPS, "name": "ops"}, "container": {"channel_id": OPS}}
    sent = await slack.send_envelope(type="interactive", payload=_click("<!channel>", **where))
    await slack.wait_for_ack(sent.envelope_id, timeout=5)
    (kept,) = quarantined(settings.home)
    await until(lambda: _told_line(caplog, kept["id"], "nobody to tell"), what="the line")
    assert not slack.calls("chat.postEphemeral") and not slack.calls("chat.postMessage")


async def test_an_unreadable_shortcut_slack_will_not_let_us_answer_is_logged_and_nothing_raises(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A message shortcut (``message_action``) whose callback id cannot be read, from a
    # channel signoff may not post in, by someone it may not DM either: the refusals are
    # the log line's, and nothing raises.
    caplog.set_level(logging.INFO, logger="signoff")
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    slack.inject_fault(method="chat.postEphemeral", error="channel_not_found")
    slack.inject_fault(method="chat.postMessage", error="messages_tab_disabled")
    payload = {
        **_click("U0CAROL", channel={"id": "C0ELSEWHERE", "name": "elsewhere"}),
        "type": "message_action",
        "callback_id": {"not": "text"},
        "message_ts": "1700000000.000100",
        "response_url": "https://hooks.slack.com/app/T0LOCAL/1/x",
    }
    sent = await slack.send_envelope(type="interactive", payload=payload)
    done = await slack.wait_for_ack(sent.envelope_id, timeout=5)
    assert not done.timed_out
    (kept,) = quarantined(settings.home)
    (line,) = await until(lambda: _told_line(caplog, kept["id"], "could not tell"), what="it")
    assert "channel_not_found" in line and "messages_tab_disabled" in line
    (call,) = slack.calls("chat.postEphemeral")
    assert "could not read this shortcut" in call.args["text"]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
