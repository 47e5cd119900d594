"""A message signoff cannot read, on a day its quarantine is full, is still told to its sender.

Past the quarantine's daily cap (10,000 records), an unreadable mention was acked and
only logged ("quarantine full for today"): its author saw nothing, and their message was
gone. Now they are told, as a quarantined one's author is, that signoff did nothing with
it and that it could not be kept; at most once an hour for each person, and for a few
people an hour in all, so a flood of bad input cannot make signoff flood Slack.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from signoff_e2e_kit import OPS, send_event, senders_told, unreadable_mention, until

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack

DAY = "2026-11-02"  # the e2e clock's day
CAP = 10_000


def _fill_today(home: Path) -> None:
    """Today's quarantine shard as a flood left it: at the cap."""
    shard = home / "quarantine" / DAY
    shard.mkdir(parents=True)
    for n in range(CAP):
        (shard / f"000000{n:06d}-quar_{n:016x}.json").write_bytes(b"{}")


async def test_past_the_cap_the_author_is_told_their_message_could_not_be_kept(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="signoff.socket")
    _fill_today(settings.home)
    ts = await slack.post_message(channel=OPS, user="U0ALICE", text="status of api")
    await send_event(slack, unreadable_mention("Ev0FULL0001", ts=ts, event_ts=ts))
    told = await slack.wait_for_ephemeral(user="U0ALICE", text_contains="could not read this")
    assert told["channel"] == OPS and told.get("thread_ts") == ts
    assert "could not be kept" in told["text"] and "signoff quarantine" not in told["text"]
    assert "\ud800" not in told["text"]
    # Nothing was kept, and the log says the sender was told.
    assert len(list((settings.home / "quarantine" / DAY).iterdir())) == CAP
    await until(lambda: senders_told(caplog), what="the line that says the sender was told")


async def test_a_flood_past_the_cap_tells_each_person_once_and_few_in_all(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="signoff.socket")
    _fill_today(settings.home)
    # Alice sends twenty she cannot have read; Bob one.
    for n in range(20):
        ts = await slack.post_message(channel=OPS, user="U0ALICE", text=f"try {n}")
        await send_event(slack, unreadable_mention(f"Ev0FLOODA{n:03d}", ts=ts, event_ts=ts))
    ts = await slack.post_message(channel=OPS, user="U0BOB", text="status of web")
    await send_event(slack, unreadable_mention("Ev0FLOODB000", ts=ts, event_ts=ts, user="U0BOB"))
    await slack.wait_for_ephemeral(user="U0BOB", text_contains="could not be kept")
    # And a hundred people (ids that are not in the workspace, as a forger sends).
    for n in range(100):
        at = f"1900000{n:03d}.000100"
        forged = unreadable_mention(f"Ev0FLOODX{n:03d}", ts=at, event_ts=at, user=f"U9F{n:06d}")
        await send_event(slack, forged)
    await bot.socket.call(bot.handler.frames_done(within=5))
    assert len(slack.ephemeral_messages(user="U0ALICE")) == 1
    tries = slack.calls("chat.postEphemeral")
    assert 2 < len(tries) <= 30, len(tries)
    assert len(slack.calls("chat.postMessage")) <= 30
    assert 2 < len(senders_told(caplog)) <= 30


async def test_past_the_cap_a_click_that_cannot_be_read_is_told_too(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """A click Slack shows nothing for (its ack): from the Home tab, told by direct message."""
    _fill_today(settings.home)
    click = {
        "type": "block_actions",
        "team": {"id": "T0LOCAL", "domain": "local"},
        "user": {"id": "U0CAROL", "username": "carol", "team_id": "T0LOCAL"},
        "api_app_id": "A0SIGNOFF",
        "trigger_id": "12466734323.1395872398.3fd5e2c4fb2ab1e2e7f2b3bc4b1a8c97",
        # An action id signoff cannot read (a list): a change of shape on Slack's side.
        "actions": [{"action_id": ["approve"], "block_id": "decide", "type": "button"}],
    }
    sent = await slack.send_envelope(type="interactive", payload=click)
    assert not (await slack.wait_for_ack(sent.envelope_id, timeout=5)).timed_out
    (dm,) = await until(
        lambda: [c for c in slack.calls("chat.postMessage") if c.args.get("channel") == "U0CAROL"],
        what="a direct message to Carol",
    )
    assert "nothing was decided" in dm.args["text"] and "could not be kept" in dm.args["text"]


async def test_kept_ones_are_told_ten_times_an_hour_to_one_person(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Under the cap every unreadable message is kept for an operator, and its sender was
    told of each: a client stuck sending one bad payload had signoff answer it up to
    10,000 times a day. Ten notices an hour to one person; every message still kept."""
    for n in range(13):
        ts = await slack.post_message(channel=OPS, user="U0ALICE", text=f"try {n}")
        await send_event(slack, unreadable_mention(f"Ev0KEPT{n:03d}", ts=ts, event_ts=ts))
    ts = await slack.post_message(channel=OPS, user="U0BOB", text="status of web")
    await send_event(slack, unreadable_mention("Ev0KEPTB000", ts=ts, event_ts=ts, user="U0BOB"))
    await slack.wait_for_ephemeral(user="U0BOB", text_contains="could not read this")
    await bot.socket.call(bot.handler.frames_done(within=5))
    assert len(slack.ephemeral_messages(user="U0ALICE")) == 10
    assert len(list((settings.home / "quarantine" / DAY).iterdir())) == 14
