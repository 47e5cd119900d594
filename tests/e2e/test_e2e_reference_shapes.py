"""Payloads exactly as Slack's reference prints them, through the real Socket Mode path and
Bolt app: each is taken as what it is, not quarantined for a field signoff never reads."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    BOT_USER,
    OPS,
    approval_id_of,
    as_in_manifest,
    bot_messages,
    bot_reply,
    cards,
    decision,
    event_callback,
    has_buttons,
    home_texts,
    mention,
    quarantined,
    thread_path,
    until,
    wait_card,
)

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig

T = "T0LOCAL"


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=5, timing=FAST))) as server:
        yield server


async def test_app_home_opened_as_slacks_reference_shows_it_publishes_the_home(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """docs.slack.dev/reference/events/app_home_opened prints ``event_ts`` as
    ``"1515449522000016"`` (no dot). signoff never reads it: the person still gets a Home."""
    opened = {"type": "app_home_opened", "user": "U0BOB", "channel": "D0BOB",
              "event_ts": "1515449522000016", "tab": "home"}  # fmt: skip
    payload = event_callback("Ev0HOMEREF1", opened)
    sent = await slack.send_envelope(type="events_api", payload=payload)
    done = await slack.wait_for_ack(sent.envelope_id, timeout=5)
    assert not done.timed_out
    view = await slack.wait_for_home_view(
        lambda v: "Waiting for you" in home_texts(v), user="U0BOB", timeout=5
    )
    assert view["type"] == "home"
    assert quarantined(settings.home) == []


async def test_app_home_opened_without_a_tab_is_acked_and_not_quarantined(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack's own SDK types the ``tab`` of ``app_home_opened`` as optional
    (docs.slack.dev/tools/node-slack-sdk/reference/types/interfaces/AppHomeOpenedEvent:
    ``tab?: "home" | "messages"``), and api.slack.com/events/app_home_opened says the field
    names the tab only "if the user opens a tab". Without it the event is well-formed: each
    one kept in the quarantine (a file and a WARNING per person opening the app) would fill
    its daily cap with noise, and a truly broken mention after that would be lost."""
    caplog.set_level(logging.DEBUG, logger="signoff.socket")
    opened = {"type": "app_home_opened", "user": "U0BOB", "channel": "D0BOB",
              "event_ts": "1515449522000016"}  # fmt: skip
    sent = await slack.send_envelope(
        type="events_api", payload=event_callback("Ev0HOMENOTAB", opened)
    )
    done = await slack.wait_for_ack(sent.envelope_id, timeout=5)
    assert not done.timed_out
    assert quarantined(settings.home) == []
    [line] = [r for r in caplog.records if "Ev0HOMENOTAB" in r.getMessage()]
    assert line.getMessage().endswith("ignored: app_home_opened (no tab)"), line.getMessage()


# What Slack sends when the app loses its footing, each as its reference prints it:
# docs.slack.dev/reference/events/tokens_revoked, api.slack.com/events/app_uninstalled
# ({"type": "app_uninstalled"} in an event_callback) and api.slack.com/events/app_rate_limited
# (not an event_callback: Slack stops sending events for that minute).
_TROUBLE = [
    (event_callback("Ev0REVOKED1", {"type": "tokens_revoked",
                            "tokens": {"oauth": ["U0ALICE"], "bot": [BOT_USER]}}),
     "tokens_revoked"),
    (event_callback("Ev0UNINST01", {"type": "app_uninstalled"}), "app_uninstalled"),
    ({"token": "legacy", "type": "app_rate_limited", "team_id": T,
      "minute_rate_limited": 1518467820, "api_app_id": "A0SIGNOFF"}, "app_rate_limited"),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "kind"), _TROUBLE, ids=[k for _, k in _TROUBLE])
async def test_slack_saying_the_app_lost_tokens_or_events_is_acked_with_a_warning(
    slack: LocalSlack,
    bot: SignoffBot,
    caplog: pytest.LogCaptureFixture,
    payload: dict[str, Any],
    kind: str,
) -> None:
    """Nothing to store, so acked; but an operator at the default INFO level must read why
    signoff goes quiet (its token was revoked, the app uninstalled, or Slack dropped a
    minute of events), in one WARNING line, with no traceback."""
    caplog.set_level(logging.INFO)
    sent = await slack.send_envelope(type="events_api", payload=payload)
    done = await slack.wait_for_ack(sent.envelope_id, timeout=5)
    assert not done.timed_out
    lines = [r for r in caplog.records if r.name == "signoff.socket" and kind in r.getMessage()]
    assert [r.levelno for r in lines] == [logging.WARNING], [r.getMessage() for r in lines]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def _stop(event_id: str, *, thread: str, at: str, user: str = "U0ALICE") -> dict[str, Any]:
    """``agent_session_stopped`` as docs.slack.dev/reference/events/agent_session_stopped
    shows it, in its ``event_callback`` envelope."""
    stopped = {"type": "agent_session_stopped", "user": user, "channel": OPS,
               "thread_ts": thread, "streaming_message_ts": [], "event_ts": at}  # fmt: skip
    return event_callback(event_id, stopped)


async def test_a_stop_slack_delivers_again_after_a_newer_request_leaves_that_request_alone(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Slack delivers an event again when its ack did not arrive (``retry_attempt``). Alice
    stopped the agent, then asked for something new in the thread: the retry of her old
    stop must not withdraw the new request (a stop older than a person's latest message is
    stale, as the turns already hold)."""
    thread = await mention(slack, "restart web")
    first = await wait_card(slack, thread)
    await bot.engine.idle()
    stop = _stop("Ev0STOPOLD1", thread=thread, at=first["ts"])
    await slack.wait_for_ack(
        (await slack.send_envelope(type="events_api", payload=stop)).envelope_id
    )
    await until(lambda: decision(settings.home, approval_id_of(first)) is not None)
    await bot.engine.idle()

    await mention(slack, "restart api", thread_ts=thread)
    await until(lambda: len(cards(slack, thread)) == 2, what="the second card")
    await bot.engine.idle()
    second = approval_id_of(cards(slack, thread)[1])

    retry = await slack.send_envelope(type="events_api", payload=stop)
    done = await slack.wait_for_ack(retry.envelope_id)
    assert not done.timed_out
    await bot.engine.idle()
    assert decision(settings.home, second) is None
    assert has_buttons(cards(slack, thread)[1])


async def test_a_slash_command_with_the_grid_fields_sent_empty_is_answered(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """A command outside Enterprise Grid may carry ``enterprise_id`` and
    ``is_enterprise_install`` as empty form fields (``enterprise_id=&is_enterprise_install=``):
    no Grid, not an answer-less quarantine."""
    empty = {"enterprise_id": "", "enterprise_name": "", "is_enterprise_install": ""}
    sent = await slack.slash_command(
        command="/signoff", user="U0BOB", channel=OPS, text="help", fields=empty
    )
    assert sent.payload["enterprise_id"] == ""
    done = await slack.wait_for_ack(sent.envelope_id, timeout=5)
    assert not done.timed_out and not done.user_saw_error
    answers = await until(lambda: slack.ephemeral_messages(user="U0BOB"), what="the answer")
    assert "/signoff" in str(answers[0].get("text", ""))
    assert quarantined(settings.home) == []


async def test_a_message_edited_to_mention_signoff_is_taken_and_answered_once(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Alice forgot the mention and edits it in. Slack sends ``message_changed`` and an
    ``app_mention`` of the same ``ts`` with ``edited`` and a new event id (a Socket Mode
    capture in github.com/slack-go/slack/pull/1256; the ``message_changed`` shape from
    docs.slack.dev/reference/events/message/message_changed). The request is taken once,
    and answered in the message's thread; a later edit of it is a duplicate."""
    ts = await slack.post_message(channel=OPS, user="U0ALICE", text="status of api")
    text = f"<@{BOT_USER}> status of api"
    rich = [{"type": "rich_text", "block_id": "7Kvco", "elements": [{"type": "rich_text_section",
             "elements": [{"type": "user", "user_id": BOT_USER},
                          {"type": "text", "text": " status of api"}]}]}]  # fmt: skip
    changed = {"type": "message", "subtype": "message_changed", "hidden": True, "channel": OPS,
               "ts": "1900000000.000200", "event_ts": "1900000000.000200",
               "channel_type": "channel",
               "message": {"type": "message", "user": "U0ALICE", "text": text, "ts": ts,
                           "blocks": rich, "edited": {"user": "U0ALICE", "ts": "1900000000.0"}},
               "previous_message": {"type": "message", "user": "U0ALICE",
                                    "text": "status of api", "ts": ts}}  # fmt: skip
    mentioned = {"type": "app_mention", "user": "U0ALICE", "text": text, "ts": ts, "team": T,
                 "blocks": rich, "channel": OPS, "event_ts": ts,
                 "edited": {"user": "U0ALICE", "ts": "1900000000.0"}}  # fmt: skip
    for event_id, event in (("Ev0EDITED01", changed), ("Ev0EDITED02", mentioned)):
        sent = await slack.send_envelope(type="events_api", payload=event_callback(event_id, event))
        assert not (await slack.wait_for_ack(sent.envelope_id, timeout=5)).timed_out
    await bot_reply(slack, ts, "service=api,")
    await bot.engine.idle()
    again = await slack.send_envelope(
        type="events_api", payload=event_callback("Ev0EDITED03", {**mentioned, "text": f"{text}!"})
    )
    assert not (await slack.wait_for_ack(again.envelope_id, timeout=5)).timed_out
    await bot.engine.idle()
    assert len(bot_messages(slack, ts, "service=api,")) == 1
    assert quarantined(settings.home) == []


async def test_slackbots_notice_and_reminder_are_acked_and_ignored_with_one_line(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Slackbot's DM to the app when it is removed from a channel (a ``message.im`` capture
    in atlassian's Jira Cloud for Slack plugin: ``USLACKBOT``, no ``bot_id``, no subtype)
    and a ``/remind`` posting a mention of signoff: each acked with one line, never a turn."""
    caplog.set_level(logging.DEBUG, logger="signoff.socket")
    removed = {"type": "message", "text": "You have been removed from #ops by <@U0CAROL>",
               "user": "USLACKBOT", "ts": "1900000000.000100", "channel": "D0SLACKBOT",
               "event_ts": "1900000000.000100", "channel_type": "im"}  # fmt: skip
    reminder = {"type": "app_mention", "user": "USLACKBOT", "channel": OPS, "team": T,
                "text": f"Reminder: <@{BOT_USER}> restart api.", "ts": "1900000000.000200",
                "event_ts": "1900000000.000200"}  # fmt: skip
    for event_id, event in (("Ev0SLACKBOT1", removed), ("Ev0SLACKBOT2", reminder)):
        sent = await slack.send_envelope(type="events_api", payload=event_callback(event_id, event))
        assert not (await slack.wait_for_ack(sent.envelope_id, timeout=5)).timed_out
        lines = [r.getMessage() for r in caplog.records if event_id in r.getMessage()]
        assert lines == [f"events_api {event_id} ignored: Slackbot's message"], lines
    await bot.engine.idle()
    assert not thread_path(settings.home, "1900000000.000100", channel="D0SLACKBOT").exists()
    assert not thread_path(settings.home, "1900000000.000200").exists()
    assert [m for m in slack.messages(channel=OPS) if m.get("bot_id")] == []
    assert quarantined(settings.home) == []
