"""A Slack Connect channel another organization created: one thread, one key.

#ops here was created by the partner organization and shared with the one signoff is
installed in. Slack names the channel's source workspace (the partner's) as an event's
top-level ``team_id`` there, and the installation in ``authorizations[0].team_id``; a
click's ``team.id`` is the installation (bolt-js #687, java-slack-sdk #629 and #1041).
Every event of one Slack thread (the mention, a guest's reply, an edit, a deletion, a
click's answer) must reach one thread record, under the installation's team; a thread a
home already keeps under the partner's team (as signoff keyed it before) keeps working.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from live_kit import FakeAnthropic, anthropic_api, manifest_agent_workspace, stop_while_streaming
from signoff_e2e_kit import (
    BOT_USER,
    OPS,
    bot_reply,
    decision,
    ephemeral,
    inbox_stored,
    mention,
    send_event,
    thread_path,
    until,
    wait_card,
    with_guest_in_ops,
)

from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig
from localslack.config import UserSpec
from sessions import Home, ThreadDir, ThreadKey, coordination_for

if TYPE_CHECKING:
    from conftest import BotFactory

__all__ = ["anthropic_api"]

PARTNER = "T0PARTNER"
GUEST = UserSpec(id="U0GUEST", name="gina", team_id=PARTNER)


def _hosted_by_partner(config: WorkspaceConfig) -> WorkspaceConfig:
    shared = with_guest_in_ops(config, GUEST)
    channels = tuple(
        dataclasses.replace(c, host_team=PARTNER) if c.id == OPS else c for c in shared.channels
    )
    return dataclasses.replace(shared, channels=channels)


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    """The app as manifest.yml declares it, an agent (its stop button), in a workspace
    whose #ops the partner organization created."""
    async with LocalSlack(_hosted_by_partner(manifest_agent_workspace())) as server:
        yield server


def _thread_dirs(home: Path, thread_ts: str) -> list[Path]:
    """Every record of the thread ``thread_ts`` in #ops, whatever team it is kept under."""
    return sorted(home.glob(f"threads/*/{OPS}/*/{thread_ts}"))


def _stored(home: Path, thread_ts: str, ts: str) -> bool:
    return any(inbox_stored(d, ts) for d in _thread_dirs(home, thread_ts))


async def test_every_event_of_a_thread_in_a_channel_the_partner_created_reaches_one_record(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    home = settings.home
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)

    # The guest answers in the thread, edits it, and says one more thing they then delete.
    said = await slack.post_message(channel=OPS, user=GUEST.id, text="db too", thread_ts=thread)
    await until(lambda: _stored(home, thread, said), what="the guest's reply")
    await slack.edit_message(channel=OPS, user=GUEST.id, ts=said, text="db and cache too")
    gone = await slack.post_message(channel=OPS, user=GUEST.id, text="oops", thread_ts=thread)
    await until(lambda: _stored(home, thread, gone), what="the second reply")
    await slack.delete_message(channel=OPS, user=GUEST.id, ts=gone)
    # The guest may not approve (another organization): they are told so, in the thread.
    await slack.click_button(channel=OPS, ts=card["ts"], user=GUEST.id, action_id=APPROVE)
    await ephemeral(slack, GUEST.id, "another organization")
    await bot.engine.idle()

    # One record, under the installation's team, holding the guest's reply.
    assert _thread_dirs(home, thread) == [thread_path(home, thread)]
    assert inbox_stored(thread_path(home, thread), said)


async def _asked_the_old_way(slack: LocalSlack) -> str:
    """Alice asks "restart api" in #ops, the mention arriving as signoff keyed it before
    the upgrade (an envelope without ``authorizations``: by its ``team_id``, the
    partner's); the thread's ts."""
    thread = await slack.post_message(channel=OPS, user="U0ALICE", text="restart api")
    asked = {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": f"<@{BOT_USER}> restart api",
        "ts": thread,
        "channel": OPS,
        "event_ts": thread,
    }
    envelope = {
        "token": "legacy",
        "team_id": PARTNER,
        "api_app_id": "A0SIGNOFF",
        "type": "event_callback",
        "event_id": "Ev0OLDKEY01",
        "event_time": 1_796_000_000,
        "event": asked,
    }
    await send_event(slack, envelope)
    return thread


async def test_a_thread_kept_under_the_partners_team_goes_on_after_the_upgrade(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    """The mention arrives as signoff keyed it before (by the envelope's ``team_id``: an
    envelope without ``authorizations``); the replies Slack sends now, and the answers to
    clicks on its card, still reach that record."""
    home = settings.home
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    thread = await _asked_the_old_way(slack)
    card = await wait_card(slack, thread)
    old = thread_path(home, thread, team=PARTNER)
    assert (old / "HEAD").exists()

    said = await slack.post_message(channel=OPS, user=GUEST.id, text="db too", thread_ts=thread)
    await until(lambda: inbox_stored(old, said), what="the reply, in the kept thread")
    # A click's answer goes to the thread its card was asked in, wherever that is kept.
    await slack.click_button(channel=OPS, ts=card["ts"], user=GUEST.id, action_id=APPROVE)
    await ephemeral(slack, GUEST.id, "another organization")
    await bot.engine.idle()
    assert _thread_dirs(home, thread) == [old]


async def test_a_stop_in_a_channel_the_partner_created_reaches_its_thread(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: BotFactory,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The stop button's event names the partner as ``team_id`` too: it stops the turn of
    the thread kept under the installation's team, and withdraws Alice's request; its log
    line names that thread."""
    caplog.set_level(logging.INFO, logger="signoff.events")
    bot, thread, approval, _ = await stop_while_streaming(
        slack, monkeypatch, anthropic_api, start_bot, stopper="U0ALICE"
    )
    await bot_reply(slack, thread, "Stopped by <@U0ALICE>")
    await bot.engine.idle()
    assert decision(settings.home, approval) is not None
    assert _thread_dirs(settings.home, thread) == [thread_path(settings.home, thread)]
    stored = [getattr(r, "signoff_fields", {}) for r in caplog.records if r.msg == "message_stored"]
    assert {f.get("team") for f in stored} == {"T0LOCAL"}
    assert any(f.get("event_type") == "other" for f in stored)  # the stop's own line


async def test_an_authorizations_team_that_is_no_slack_id_leaves_the_envelopes_team(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    """A forged ``authorizations[0].team_id`` (no Slack id) is not a team to key by: the
    mention is kept under the envelope's ``team_id``, as an envelope naming no team there."""
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    thread = await slack.post_message(channel=OPS, user="U0ALICE", text="restart api")
    asked = {"type": "app_mention", "user": "U0ALICE", "text": f"<@{BOT_USER}> restart api",
             "ts": thread, "channel": OPS, "event_ts": thread}  # fmt: skip
    await send_event(
        slack,
        {"token": "legacy", "team_id": PARTNER, "api_app_id": "A0SIGNOFF",
         "type": "event_callback", "event_id": "Ev0FORGEDTEAM", "event_time": 1_796_000_000,
         "event": asked, "authorizations": [{"team_id": "../T0LOCAL", "is_bot": True}]},
    )  # fmt: skip
    await wait_card(slack, thread)
    assert _thread_dirs(settings.home, thread) == [thread_path(settings.home, thread, team=PARTNER)]


async def test_a_reply_deleted_without_its_previous_message_in_a_kept_thread_is_withdrawn(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    """A ``message_deleted`` without ``previous_message`` names no thread: of a reply
    waiting in a thread kept under the partner's team, it still withdraws the reply (a
    deleted request is never carried out), though the event names the installation."""
    home = settings.home
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    thread = await _asked_the_old_way(slack)
    await wait_card(slack, thread)
    await bot.engine.idle()
    old = ThreadKey(team=PARTNER, channel=OPS, thread_ts=thread)
    tdir = ThreadDir(Home(home), old)
    async with coordination_for(Home(home)).thread_locks.hold(old):
        said = await slack.post_message(
            channel=OPS, user=GUEST.id, text="and drop the db", thread_ts=thread
        )
        await until((tdir.inbox.new / said).exists, what="the reply to wait in the kept thread")
        deleted = {"type": "message", "subtype": "message_deleted", "hidden": True,
                   "channel": OPS, "channel_type": "channel", "deleted_ts": said,
                   "ts": "1900000003.000000", "event_ts": "1900000003.000000"}  # fmt: skip
        await send_event(
            slack,
            {"token": "legacy", "team_id": PARTNER, "api_app_id": "A0SIGNOFF",
             "type": "event_callback", "event_id": "Ev0DELNOPREV", "event_time": 1_900_000_003,
             "event": deleted, "authorizations": [{"team_id": "T0LOCAL", "is_bot": True}]},
        )  # fmt: skip
        assert tdir.inbox.pending() == []
    await bot.engine.idle()
    assert _thread_dirs(home, thread) == [thread_path(home, thread, team=PARTNER)]


async def test_the_log_names_a_thread_in_a_channel_the_partner_created_by_its_one_key(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An operator follows a thread by its ids in the log: the lines saying its messages
    were stored (and a twin a duplicate) name the team it is kept under, as its card's do,
    not the partner's the envelope names."""
    caplog.set_level(logging.DEBUG, logger="signoff.events")
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    await wait_card(slack, thread)
    said = await slack.post_message(channel=OPS, user=GUEST.id, text="db too", thread_ts=thread)
    await until(lambda: _stored(settings.home, thread, said), what="the guest's reply")
    await bot.engine.idle()

    def named(event: str) -> set[tuple[object, ...]]:
        fields = [getattr(r, "signoff_fields", {}) for r in caplog.records if r.msg == event]
        return {(f.get("team"), f.get("channel"), f.get("thread_ts")) for f in fields}

    await until(lambda: named("card_posted"), what="the card's log line")
    assert named("message_stored") == named("card_posted") == {("T0LOCAL", OPS, thread)}
    # Slack delivers the mention again (its ack was late): a duplicate, of the same thread.
    [asked] = [
        d.payload
        for d in slack.deliveries(type="events_api")
        if d.payload["event"].get("type") == "app_mention"
    ]
    await send_event(slack, asked)
    assert named("message_duplicate") == {("T0LOCAL", OPS, thread)}
