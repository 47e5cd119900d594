"""Events API envelopes as Slack sends them again: a redelivery (``retry_attempt``, same
``event_id``) and a mention's ``message`` twin (same ``ts``) of a payload that can never
be stored. Each is acked with one line, and the message is kept in quarantine once: a
second record of the same message is one more thing for a person to review, with
nothing new in it."""

from __future__ import annotations

import logging

import pytest
from signoff_e2e_kit import (
    BOT_USER,
    OPS,
    bot_reply,
    event_callback,
    mention,
    quarantined,
    send_event,
)

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack


def _lines(caplog: pytest.LogCaptureFixture, event_id: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "signoff.socket" and event_id in r.getMessage()
    ]


async def test_a_malformed_mention_slack_delivers_again_is_quarantined_once(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="signoff.socket")
    # A lone surrogate: JSON carries it, no file or log can.
    bad = event_callback(
        "Ev0AGAIN01",
        {"type": "app_mention", "channel": OPS, "user": "U0ALICE", "ts": "1900000000.000100",
         "text": f"<@{BOT_USER}> status of \ud800api", "event_ts": "1900000000.000100"},
    )  # fmt: skip
    await send_event(slack, bad)
    await send_event(slack, bad)  # the first ack was lost: Slack sends it again
    [record] = quarantined(settings.home)
    first, again = _lines(caplog, "Ev0AGAIN01")
    assert "quarantined" in first and record["id"] in first
    assert again.endswith(f"duplicate: already quarantined as {record['id']}"), again
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_malformed_reply_and_its_mention_twin_are_quarantined_once(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """In a thread signoff takes part in, a reply that mentions it comes as a ``message``
    and an ``app_mention`` of the same ``ts``, each with its own event id."""
    caplog.set_level(logging.DEBUG, logger="signoff.socket")
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api")
    await bot.engine.idle()
    said = {"user": "U0ALICE", "channel": OPS, "ts": "1900000000.000200", "thread_ts": thread,
            "text": f"<@{BOT_USER}> status of \ud800web"}  # fmt: skip
    await send_event(
        slack, event_callback("Ev0TWIN0001", {"type": "message", "channel_type": "channel", **said})
    )
    await send_event(slack, event_callback("Ev0TWIN0002", {"type": "app_mention", **said}))
    [record] = quarantined(settings.home)
    assert record["event_id"] == "Ev0TWIN0001"
    [twin] = _lines(caplog, "Ev0TWIN0002")
    assert twin.endswith(f"duplicate: already quarantined as {record['id']}"), twin


async def test_twins_of_a_malformed_reply_that_come_together_are_quarantined_once(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Slack sends the twins within milliseconds, and each frame is handled in its own
    task: the second must not be judged while the first is still being written."""
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api")
    await bot.engine.idle()
    said = {"user": "U0ALICE", "channel": OPS, "ts": "1900000000.000300", "thread_ts": thread,
            "text": f"<@{BOT_USER}> status of \ud800web"}  # fmt: skip
    twins = [
        await slack.send_envelope(type="events_api", payload=event_callback(event_id, event))
        for event_id, event in (
            ("Ev0TOGETHER1", {"type": "message", "channel_type": "channel", **said}),
            ("Ev0TOGETHER2", {"type": "app_mention", **said}),
        )
    ]
    for sent in twins:
        assert not (await slack.wait_for_ack(sent.envelope_id, timeout=5)).timed_out
    assert len(quarantined(settings.home)) == 1


async def test_a_reply_within_slacks_limit_whose_escaping_passes_it_is_answered(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Slack's 40,000 characters are what the person wrote; the event's text has each
    &, < and > escaped (``&amp;`` is five characters for one). A pasted log of 14,000
    characters full of them is a message, and is answered, not quarantined."""
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api")
    await bot.engine.idle()
    pasted = "&lt;x&gt; &amp;&amp; " * 1_000  # 7,000 characters typed, 21,000 sent
    said = {"type": "message", "channel_type": "channel", "user": "U0ALICE", "channel": OPS,
            "ts": "1900000000.000400", "thread_ts": thread,
            "text": f"status of web {pasted}{pasted}"}  # fmt: skip
    await send_event(slack, event_callback("Ev0PASTED01", said))
    await bot_reply(slack, thread, "service=web")
    assert quarantined(settings.home) == []
