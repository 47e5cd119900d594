"""Envelopes the bot cannot use: every one is acked (or stored), none loops, none logs a
traceback, and what was addressed to the bot is kept in ``$SIGNOFF_HOME/quarantine``."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from signoff_e2e_kit import BOT_USER, OPS, bot_reply, mention, quarantined

from bot.app import SignoffBot
from bot.config import Settings
from localslack import Delivery, LocalSlack


def event(
    kind: str = "app_mention", event_id: str = "Ev0HOSTILE1", **fields: Any
) -> dict[str, Any]:
    body = {
        "type": kind,
        "user": "U0ALICE",
        "text": f"<@{BOT_USER}> status of api",
        "ts": "1700000000.000100",
        "channel": OPS,
        "event_ts": "1700000000.000100",
        **fields,
    }
    return {
        "token": "localverificationtoken",
        "team_id": "T0LOCAL",
        "api_app_id": "A0SIGNOFF",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1700000000,
        "event": {k: v for k, v in body.items() if v is not None},
    }


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def acked(slack: LocalSlack, sent: Delivery) -> Delivery:
    return await slack.wait_for_ack(sent.envelope_id, timeout=5)


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"ts": "not-a-ts", "thread_ts": "1700000000.000100"}, "ts"),
        ({"text": f"<@{BOT_USER}> status of \ud800api"}, "text"),
        ({"channel": "../../etc"}, "channel"),
        ({"user": 42}, "user"),
        ({"text": "x" * 40_001}, "text"),
    ],
)
async def test_a_mention_that_can_never_be_stored_is_acked_and_quarantined(
    slack: LocalSlack,
    bot: SignoffBot,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    fields: dict[str, Any],
    why: str,
) -> None:
    payload = event(**fields)
    sent = await slack.send_envelope(type="events_api", payload=payload)
    done = await acked(slack, sent)
    assert done.retry_attempt == 0 and not done.timed_out
    [record] = quarantined(settings.home)
    assert record["schema_version"] == 1
    assert record["source"] == "events_api"
    assert why in record["reason"]
    assert record["event_id"] == "Ev0HOSTILE1"
    assert record["payload"]["event"]["type"] == "app_mention"
    assert tracebacks(caplog) == []
    lines = [r for r in caplog.records if "Ev0HOSTILE1" in r.getMessage()]
    assert len(lines) == 1 and "quarantined" in lines[0].getMessage()
    # Nothing reached a thread, and the bot still answers.
    assert not (settings.home / "threads" / "T0LOCAL" / OPS).exists()
    thread = await mention(slack, "status of web")
    await bot_reply(slack, thread, "service=web,")


USER = {"id": "U0BOB", "username": "bob", "name": "bob", "team_id": "T0LOCAL"}
TEAM = {"id": "T0LOCAL", "domain": "localslack"}
VIEW = {
    "id": "V0NOPE",
    "callback_id": "old_modal",
    "type": "modal",
    "private_metadata": "",
    "state": {"values": {}},
    "hash": "1.a",
    "team_id": "T0LOCAL",
}


def block_actions(action_id: str = "retired_button", **fields: Any) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": USER,
        "api_app_id": "A0SIGNOFF",
        "team": TEAM,
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": OPS},
        "channel": {"id": OPS, "name": "ops"},
        "trigger_id": "1.2.abc",
        "actions": [{"action_id": action_id, "block_id": "b1", "type": "button", "value": "v"}],
        **fields,
    }


@pytest.mark.parametrize(
    ("kind", "payload", "ack"),
    [
        ("interactive", block_actions(), None),
        (
            "interactive",
            {"type": "view_submission", "user": USER, "team": TEAM, "view": VIEW},
            None,
        ),
        ("interactive", {"type": "view_closed", "user": USER, "team": TEAM, "view": VIEW}, None),
        (
            "interactive",
            {
                "type": "shortcut",
                "user": USER,
                "team": TEAM,
                "callback_id": "launch",
                "trigger_id": "1.2.abc",
            },
            None,
        ),
        (
            "interactive",
            {
                "type": "message_action",
                "user": USER,
                "team": TEAM,
                "callback_id": "quote",
                "channel": {"id": OPS},
            },
            None,
        ),
        (
            "interactive",
            {
                "type": "block_suggestion",
                "user": USER,
                "team": TEAM,
                "action_id": "pick",
                "value": "ap",
            },
            {"options": []},
        ),
        (
            "slash_commands",
            {
                "command": "/deploy",
                "text": "web",
                "user_id": "U0BOB",
                "channel_id": OPS,
                "team_id": "T0LOCAL",
                # Never called: the fallback answers in its ack.
                "response_url": "https://hooks.slack.com/commands/T0LOCAL/1/x",
            },
            {"text": "signoff has no `/deploy` command; try `/signoff help`."},
        ),
    ],
)
async def test_interactions_no_listener_takes_are_acked_with_one_line(
    slack: LocalSlack,
    bot: SignoffBot,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    payload: dict[str, Any],
    ack: dict[str, Any] | None,
) -> None:
    caplog.set_level(logging.INFO)
    done = await acked(slack, await slack.send_envelope(type=kind, payload=payload))
    assert not done.timed_out and not done.user_saw_error
    assert done.ack_payload == ack
    assert tracebacks(caplog) == []
    assert [r.getMessage() for r in caplog.records if r.name == "signoff.fallback"] != []
    assert not [r for r in caplog.records if "Unhandled request" in r.getMessage()]
    assert quarantined(settings.home) == []


@pytest.mark.parametrize(
    ("kind", "payload", "why", "kept"),
    [
        ("interactive", block_actions(user={"id": 7}), "block_actions: user.id", True),
        ("interactive", block_actions(actions=[]), "actions", True),
        ("interactive", block_actions(command="/signoff"), "command", True),
        ("interactive", block_actions(authorizations="x"), "authorizations", True),
        ("interactive", block_actions(channel={"id": "C0\ud800"}), "channel", True),
        (
            "interactive",
            {"type": "view_submission", "user": USER, "view": {"state": 1}},
            "view.callback_id",
            True,
        ),
        (
            "slash_commands",
            {"command": "signoff", "user_id": "U0BOB", "channel_id": OPS},
            "command",
            True,
        ),
        (
            "slash_commands",
            {"command": "/signoff", "user_id": ["U0BOB"], "channel_id": OPS},
            "user_id",
            True,
        ),
        (
            "interactive",
            {"type": "dialog_submission", "callback_id": "x"},
            "dialog_submission",
            False,
        ),
        ("interactive", {"type": 3}, "not an interaction", False),
        ("interactive", "just text", "not an interaction", False),
        ("interactive", [1, 2], "unusable envelope", False),
        ("events_api", None, "unusable envelope", False),
        ("events_api", 12, "unusable envelope", False),
        (
            "events_api",
            {"type": "event_callback", "event": {"type": "reaction_added"}},
            "event type",
            False,
        ),
        ("hello_world", {}, "envelope type", False),
    ],
)
async def test_malformed_envelopes_are_acked_and_kept_or_dropped_with_one_line(
    slack: LocalSlack,
    bot: SignoffBot,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    payload: Any,
    why: str,
    kept: bool,
) -> None:
    caplog.set_level(logging.DEBUG, logger="signoff")
    sent = await slack.send_envelope(type=kind, payload=payload)
    done = await acked(slack, sent)
    assert not done.timed_out and not done.user_saw_error
    records = quarantined(settings.home)
    assert len(records) == kept
    if kept:
        assert records[0]["source"] == kind
        assert why in records[0]["reason"]
        assert records[0]["payload"] == payload
    assert tracebacks(caplog) == []
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("signoff")]
    assert len([line for line in lines if why in line]) == 1, lines
    assert not [r for r in caplog.records if "Unhandled request" in r.getMessage()]
