"""A listener that fails after its ack (bot/listeners.py), through the wire.

The failures come from Slack's side, as localslack makes them: a connection dropped on
``views.open`` raises aiohttp's ``ServerDisconnectedError`` out of slack_sdk (not a
``SlackApiError``). (A membership lookup without an answer fails closed, and says so.) Raised right after the ack, Bolt took the ack
back (Slack showed the person an error 3 s later), logged a traceback, and the person was
told nothing. Now the envelope is acked in time, the person is told, and one log line
says which listener failed, how, and on what.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from signoff_e2e_kit import (
    OPS,
    approvals_dir,
    asked_under,
    bot_reply,
    decision,
    ephemeral_texts,
    has_buttons,
    until,
    write_policy,
)

from bot.app import SignoffBot
from bot.card_governance import EDIT
from bot.cards import DENY
from bot.config import Settings
from bot.edit_modal import EDIT_MODAL
from localslack import LocalSlack, Timing

if TYPE_CHECKING:
    from conftest import BotFactory

BOB_ONLY = '[tools.restart_service]\napprovers = ["U0BOB"]\n'
TWO_APPROVERS = '[tools.scale_service]\napprovers = ["U0BOB", "U0CAROL"]\n'
GROUP_POLICY = '[tools.restart_service]\napprovers = ["S0APPROVERS"]\n'


def failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "signoff.listeners" and r.levelno > logging.DEBUG
    ]


async def told_once(
    slack: LocalSlack, caplog: pytest.LogCaptureFixture, *, user: str, envelope_id: str
) -> tuple[str, str]:
    """The person's one answer and the one log line; the envelope acked in time, and no
    traceback (Bolt's or ours) above DEBUG."""
    (told,) = await until(lambda: ephemeral_texts(slack, user), what="an answer")
    assert told.startswith("Something went wrong on signoff's side")
    delivery = await slack.wait_for_ack(envelope_id)
    assert delivery.acked and not delivery.user_saw_error and not delivery.late_ack
    # The line says how they were told, so it is written just after the telling.
    (line,) = await until(lambda: failures(caplog), what="the listener's log line")
    assert not [r for r in caplog.records if r.exc_info and r.levelno > logging.DEBUG]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    return told, line.getMessage()


async def asked_then_cut_off(
    slack: LocalSlack,
    start_bot: BotFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    *,
    method: str,
    policy: str = BOB_ONLY,
) -> tuple[SignoffBot, str, dict[str, Any], str]:
    """A card waiting under ``policy``; then every call of ``method`` loses its connection
    (each try: slack_sdk retries a dropped connection). (bot, thread, card, approval id)"""
    written = write_policy(tmp_path / "policy.toml", policy)
    bot, thread, card, approval = await asked_under(slack, start_bot, written, "restart api")
    await bot.engine.idle()
    slack.inject_fault(method=method, count=None, drop_connection=True)
    caplog.set_level(logging.DEBUG, logger="signoff.listeners")
    return bot, thread, card, approval


async def test_a_deny_click_whose_modal_cannot_be_opened_is_answered(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _bot, _thread, card, approval = await asked_then_cut_off(
        slack, start_bot, tmp_path, caplog, method="views.open"
    )
    click = await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=DENY)
    told, line = await told_once(slack, caplog, user="U0BOB", envelope_id=click.envelope_id)
    assert line.startswith("listener on_click failed after its ack: ServerDisconnectedError")
    for part in ("user='U0BOB'", f"channel='{OPS}'", f"action='{DENY}'", "told them"):
        assert part in line, line
    ref = line.split("ref=")[1].split(";")[0]
    assert f"`{ref}`" in told  # the person can hand the operator the line's ref
    # Nothing was decided: the request waits, its card keeps its buttons.
    assert decision(settings.home, approval) is None
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))


async def test_a_slash_command_whose_channel_lookup_fails_is_answered_plainly(
    slack: LocalSlack,
    start_bot: BotFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``/signoff pending`` asks Slack which channels the person can see (whether a
    channel is public first): without an answer it says so (not "nothing is waiting", nor
    only that something went wrong)."""
    await asked_then_cut_off(slack, start_bot, tmp_path, caplog, method="conversations.info")
    sent = await slack.slash_command(command="/signoff", user="U0BOB", channel=OPS, text="pending")
    (told,) = await until(lambda: ephemeral_texts(slack, "U0BOB"), what="an answer")
    assert told.startswith("signoff could not check with Slack which channels you can see"), told
    delivery = await slack.wait_for_ack(sent.envelope_id)
    assert delivery.acked and not delivery.user_saw_error and not delivery.late_ack
    assert not failures(caplog)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


# Slack's own 3 s: the client's retries of the dropped connection (with backoff) end
# before the envelope times out.
@pytest.mark.slack_timing(Timing(ack_timeout=3.0, server_ping_interval=None))
async def test_a_stop_whose_group_lookup_fails_stops_the_work_and_leaves_the_request(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Events do not go through Bolt: signoff acks them itself, once their work is done.
    Carol's stop must ask Slack who is in the request's approver group (may she withdraw
    it?); with that connection dropped, the aiohttp error escaped the socket handler: the
    SDK logged a traceback and nothing said what became of the envelope. The lookup fails
    closed now: the work stops at once, and the request waits for its approvers."""
    _bot, thread, card, approval = await asked_then_cut_off(
        slack, start_bot, tmp_path, caplog, method="usergroups.users.list", policy=GROUP_POLICY
    )
    event = {
        "type": "agent_session_stopped",
        "user": "U0CAROL",
        "channel": OPS,
        "thread_ts": thread,
        "event_ts": "1800000000.000100",
    }
    payload = {"type": "event_callback", "team_id": "T0LOCAL", "event_id": "Ev0STOP1"}
    first = await slack.send_envelope(type="events_api", payload={**payload, "event": event})
    await bot_reply(slack, thread, "Stopped by <@U0CAROL>")
    assert (await slack.wait_for_ack(first.envelope_id)).acked
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert decision(settings.home, approval) is None  # Carol may not deny the group's request
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))


async def test_a_form_that_fails_before_its_ack_says_so_in_the_form(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The edit form is checked before its ack (a problem is shown on its field). A request
    record the disk cannot read (here a directory in its place) raised there: Bolt answered
    500, the modal closed on nothing, and the bot logged 'no listener took it'. Now the
    form itself says something went wrong."""
    policy = write_policy(tmp_path / "policy.toml", TWO_APPROVERS)
    bot, _thread, card, approval = await asked_under(slack, start_bot, policy, "scale api to 12")
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=EDIT)
    # The form is signoff's from before views.open (recorded first, named by external_id).
    (opened,) = await until(lambda: slack.open_views(user="U0BOB"), what="Bob's edit form")
    assert bot.engine.peek_form(kind="edit", form_key=opened["external_id"], user="U0BOB")
    record = approvals_dir(settings.home, approval) / f"{approval}.json"
    record.rename(record.with_suffix(".moved"))
    record.mkdir()
    caplog.set_level(logging.DEBUG, logger="signoff.listeners")
    sent = await slack.submit_view(
        user="U0BOB",
        callback_id=EDIT_MODAL,
        values={"arg:service": {"value": "api"}, "arg:replicas": {"value": "8"}},
    )
    delivery = await slack.wait_for_ack(sent.envelope_id)
    assert not delivery.user_saw_error and not delivery.late_ack
    (form,) = slack.open_views(user="U0BOB")
    shown = form["blocks"][0]["text"]["text"]
    assert shown.startswith("Something went wrong on signoff's side")
    (line,) = [r.getMessage() for r in failures(caplog)]
    assert line.startswith("listener on_edit_submit failed before its ack: IsADirectoryError")
    assert f"callback='{EDIT_MODAL}'" in line and "told them in the form" in line, line
    # (The thread's worker, should the sweep wake it meanwhile, fails on the same record
    # with a traceback of its own: not the listener's, and not what this test is about.)
    assert not [
        r
        for r in caplog.records
        if r.exc_info and r.levelno > logging.DEBUG and not r.name.startswith("signoff.engine")
    ]
    assert "no listener took it" not in caplog.text


async def test_a_deny_whose_form_slack_refuses_is_decided_and_logged_in_one_line(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Slack refuses the deny form (its trigger expired): the click denies without a
    reason, as it says, and the log line names Slack's error in one line (slack_sdk's own
    text of it is two, quoting its whole answer)."""
    written = write_policy(tmp_path / "policy.toml", BOB_ONLY)
    bot, thread, card, approval = await asked_under(slack, start_bot, written, "restart api")
    await bot.engine.idle()
    slack.inject_fault(method="views.open", error="expired_trigger_id")
    caplog.set_level(logging.INFO, logger="signoff")
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=DENY)
    await bot_reply(slack, thread, "did not run `restart_service`")
    assert (decision(settings.home, approval) or {}).get("verdict") == "denied"
    (line,) = [r.getMessage() for r in caplog.records if "deny modal" in r.getMessage()]
    assert "\n" not in line and "expired_trigger_id" in line, line
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.slack_timing(
    Timing(ack_timeout=1.0, server_ping_interval=None, response_url_max_uses=0)
)
async def test_an_apology_the_response_url_refuses_is_not_logged_as_told(
    slack: LocalSlack,
    start_bot: BotFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Bolt's ``respond`` returns Slack's refusal (404 ``used_url``) instead of raising:
    the line said "told them by response_url" when nobody was told."""
    _bot, _thread, card, _approval = await asked_then_cut_off(
        slack, start_bot, tmp_path, caplog, method="views.open"
    )
    click = await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=DENY)
    assert not (await slack.wait_for_ack(click.envelope_id)).user_saw_error
    (line,) = await until(lambda: failures(caplog), what="the listener's log line")
    message = line.getMessage()
    assert message.startswith("listener on_click failed after its ack"), message
    assert message.endswith("could not tell them: ResponseUrlRefused (HTTP 404 used_url)"), message
    assert ephemeral_texts(slack, "U0BOB") == []
