"""A card's channel closed to signoff while its request waits, through the wire: archived
(chat.update: ``is_inactive``, a post: ``is_archived``), or refusing the card's post.

The approved call runs once, each entry Slack refuses is given up once and logged, and
whoever would learn nothing in the channel hears of it in their direct message with
signoff: the requester (each decided version of the card as it stands), the approver who
clicked a card still shown with its buttons, and a clicker whose answer Slack will not
show there.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
from conftest import FAST, restart
from signoff_e2e_kit import (
    BOT_USER,
    CARD_TITLE,
    OPS,
    approval_id_of,
    as_in_manifest,
    decision,
    has_buttons,
    home_buttons,
    home_of,
    mention,
    outcome_text,
    restarts,
    told,
    tracebacks,
    until,
    wait_card,
)

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig
from localslack.state import im_channel_id

if TYPE_CHECKING:
    from conftest import BotFactory

PRIVATE = "C0PRIVATE"  # Alice and signoff


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    """The workspace as the manifest sets it up (the Home tab on)."""
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=19, timing=FAST))) as server:
        yield server


async def told_how_it_ended(slack: LocalSlack, bot: SignoffBot, dm: str) -> list[dict[str, Any]]:
    """signoff's messages in ``dm`` once one shows the approved call's end, and the bot idle."""
    await until(
        lambda: any("ran" in outcome_text(m) for m in told(slack, dm) if m.get("blocks")),
        what=f"{dm} told how the approved call ended",
    )
    await bot.engine.idle()
    return told(slack, dm)


async def test_a_request_decided_after_its_channel_was_archived_is_told_to_the_requester(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Archived while it waits: the card takes no update (is_inactive), the thread no reply
    (is_archived). Decided from a Home tab, the call runs once, each entry is given up once,
    and the requester, who could see none of it, gets each decided version of the card in
    her direct message."""
    caplog.set_level(logging.INFO)
    await slack.open_app_home(user="U0BOB")
    thread = await mention(slack, "restart the api service")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await home_of(slack, "U0BOB", has="Waiting for you (1)")
    await slack.archive_channel(channel=OPS, user="U0CAROL")
    # Her first note meets a 429: waited out as Slack asks, not lost.
    busy = slack.inject_fault(
        method="chat.postMessage", channel="U0ALICE", status=429, retry_after=1
    )

    await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    dm = im_channel_id("U0ALICE")
    await slack.wait_for_message(channel=dm, from_bot=True, text_contains="approved", timeout=10)
    notes = await told_how_it_ended(slack, bot, dm)
    assert restarts(settings.home) == 1
    assert len(notes) == 2, notes  # approved, then how it ended: each card version once
    for note in notes:
        assert f"<#{OPS}>" in note["text"] and "is_inactive" in note["text"], note["text"]
        assert not has_buttons(note)
    assert "Approved by <@U0BOB>" in outcome_text(notes[-1])
    assert busy.remaining == 0
    gave_up = [r.getMessage() for r in caplog.records if r.getMessage().startswith("gave up")]
    assert len(gave_up) == 3, gave_up  # both card versions and the thread's reply, once each
    assert not tracebacks(caplog)


async def test_a_card_slack_would_not_post_in_an_archived_channel_is_told_to_the_requester(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Archived between her mention and the card (here: Slack's answer to the card's post):
    she hears it could not be posted, and where approvers can still decide it; decided
    there, she gets the card as it stands, saying it could not be posted."""
    slack.inject_fault(method="chat.postMessage", channel=OPS, error="is_archived", count=None)
    await slack.open_app_home(user="U0BOB")
    await mention(slack, "restart the api service")
    dm = im_channel_id("U0ALICE")
    note = await slack.wait_for_message(
        channel=dm, from_bot=True, text_contains="could not post", timeout=10
    )
    assert "is_archived" in note["text"] and "Home tab" in note["text"], note["text"]
    assert f"<#{OPS}>" in note["text"]
    bobs = await home_of(slack, "U0BOB", has="Waiting for you (1)")
    approval = next(v for a, v in home_buttons(bobs) if a == APPROVE)
    await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    notes = await told_how_it_ended(slack, bot, dm)
    assert restarts(settings.home) == 1
    assert len(notes) == 3, notes  # could not post; approved; how it ended
    assert all("could not be posted" in n["text"] for n in notes[1:]), notes
    assert not tracebacks(caplog)


async def test_a_click_refused_in_an_archived_channel_is_told_in_a_direct_message(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A click from a client that still shows the card is judged as any other (her own
    request: refused); its answer, which Slack will not show in an archived channel
    (chat.postEphemeral: is_archived), goes to her direct message, naming the channel."""
    thread = await mention(slack, "restart the api service")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await slack.archive_channel(channel=OPS, user="U0CAROL")
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0ALICE", action_id=APPROVE)
    note = await slack.wait_for_message(
        channel=im_channel_id("U0ALICE"), from_bot=True, text_contains="About a request in"
    )
    assert f"<#{OPS}>" in note["text"] and "someone else must decide" in note["text"], note["text"]
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    assert not tracebacks(caplog)


async def test_an_approval_clicked_in_an_archived_channel_is_shown_to_the_approver(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Bob approves from a client that still shows the card: it counts, the call runs once,
    and since the card he clicked cannot change, he too gets it as it stands, in his direct
    message, as the requester does."""
    thread = await mention(slack, "restart the api service")
    card = await wait_card(slack, thread)
    await slack.archive_channel(channel=OPS, user="U0CAROL")
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    bobs = im_channel_id("U0BOB")
    notes = await told_how_it_ended(slack, bot, bobs)
    assert restarts(settings.home) == 1
    assert len(notes) == 2 and not any(has_buttons(n) for n in notes), notes
    assert len(told(slack, im_channel_id("U0ALICE"))) == 2
    # Carol clicks the card that still shows its buttons, twice: she is told it was
    # decided; the card, tried again, is still refused, and nobody is told that again.
    for _ in range(2):
        await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    carols = im_channel_id("U0CAROL")
    await until(lambda: len(told(slack, carols)) == 2, what="Carol told of both clicks")
    await bot.engine.idle()
    assert len(told(slack, bobs)) == 2 and len(told(slack, im_channel_id("U0ALICE"))) == 2
    assert not tracebacks(caplog)


async def test_a_click_in_a_private_channel_signoff_was_removed_from_is_not_called_outsiders(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """signoff removed from a private channel cannot learn who is in it (Slack answers
    ``channel_not_found``): Bob, who is in it, was refused as "not in the conversation its
    card is in". He is refused (nothing can be checked) and told the truth; once signoff is
    invited back, his click decides, and the call runs once."""
    await slack.join_channel(channel=PRIVATE, user="U0BOB")
    thread = await slack.post_message(
        channel=PRIVATE, user="U0ALICE", text=f"<@{BOT_USER}> restart the api service"
    )
    card = await slack.wait_for_message(
        channel=PRIVATE, thread_ts=thread, from_bot=True, text_contains=CARD_TITLE
    )
    approval = approval_id_of(card)
    await slack.leave_channel(channel=PRIVATE, user=BOT_USER)
    await slack.click_button(channel=PRIVATE, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    bobs = im_channel_id("U0BOB")
    await until(lambda: bool(told(slack, bobs)), what="Bob told why his click decided nothing")
    [note] = [m["text"] for m in told(slack, bobs)]
    assert "could not check" in note and "channel_not_found" in note, note
    assert "you are not in the conversation" not in note, note
    assert decision(settings.home, approval) is None

    await slack.join_channel(channel=PRIVATE, user=BOT_USER)
    await slack.click_button(channel=PRIVATE, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await slack.wait_for_message(
        channel=PRIVATE, thread_ts=thread, from_bot=True, text_contains="finished"
    )
    await bot.engine.idle()
    assert restarts(settings.home) == 1


async def test_a_card_left_stale_by_an_archive_is_shown_as_it_stands_at_the_next_click(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """Decided and run while its channel was archived, the card kept its buttons; after
    the channel is unarchived it showed a request still waiting, for good. The next click
    on it (told the request is decided) shows it as it stands, once Slack lets it."""
    thread = await mention(slack, "restart the api service")
    card = await wait_card(slack, thread)
    await slack.archive_channel(channel=OPS, user="U0CAROL")
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await told_how_it_ended(slack, bot, im_channel_id("U0BOB"))
    await slack.unarchive_channel(channel=OPS, user="U0CAROL")
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await until(
        lambda: "ran" in outcome_text(slack.message(channel=OPS, ts=card["ts"])),
        what="the card showing how the call ended",
    )
    assert not has_buttons(slack.message(channel=OPS, ts=card["ts"]))
    await bot.engine.idle()
    assert restarts(settings.home) == 1


async def test_a_request_whose_channel_was_deleted_is_told_where_its_people_can_read(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Its channel deleted, a request can still be decided from a terminal (``signoff
    approve``: the engine's decide); the card and the thread are gone (channel_not_found),
    so the requester and the approver get the card as it stands in their DMs."""
    thread = await mention(slack, "restart the api service")
    approval = approval_id_of(await wait_card(slack, thread))
    await slack.delete_channel(channel=OPS)
    await bot.engine.decide(approval, user="U0BOB", approve=True)
    for person in ("U0ALICE", "U0BOB"):
        notes = await told_how_it_ended(slack, bot, im_channel_id(person))
        assert len(notes) == 2 and all("channel_not_found" in n["text"] for n in notes), notes
    assert restarts(settings.home) == 1
    assert not tracebacks(caplog)


async def test_an_approver_of_a_routed_card_in_an_archived_channel_is_shown_it(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    """Asked in a direct message, the card is in the approvals channel, archived since: the
    asker hears how it ended in her DM, as always, and the approver who clicked the card
    that kept its buttons gets it as it stands in his."""
    bot = await start_bot(approvals_channel=OPS)
    await slack.wait_for_sockets(1, timeout=5)
    await slack.post_message(channel=im_channel_id("U0ALICE"), user="U0ALICE", text="restart web")
    card = await slack.wait_for_message(channel=OPS, from_bot=True, text_contains=CARD_TITLE)
    await slack.archive_channel(channel=OPS, user="U0CAROL")
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await slack.wait_for_message(
        channel=im_channel_id("U0ALICE"), from_bot=True, text_contains="restart_service` finished"
    )
    notes = await told_how_it_ended(slack, bot, im_channel_id("U0BOB"))
    assert len(notes) == 2 and all("is_inactive" in n["text"] for n in notes), notes
    assert restarts(settings.home, "web") == 1


async def test_a_card_version_told_before_a_restart_is_not_told_again_after_it(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    """Bob approved in an archived channel and he and Alice were told each version of the
    card. After a restart, Carol clicks the card still showing its buttons: the card, tried
    again, is refused again, and nobody is told a version they were told already."""
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart the api service")
    card = await wait_card(slack, thread)
    await slack.archive_channel(channel=OPS, user="U0CAROL")
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    bobs, alices = im_channel_id("U0BOB"), im_channel_id("U0ALICE")
    await told_how_it_ended(slack, bot, bobs)
    assert len(told(slack, bobs)) == 2 and len(told(slack, alices)) == 2

    bot = await restart(bot, start_bot, slack)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    carols = im_channel_id("U0CAROL")
    await until(lambda: bool(told(slack, carols)), what="Carol told it was decided")
    await bot.engine.idle()
    assert len(told(slack, bobs)) == 2 and len(told(slack, alices)) == 2
    assert restarts(settings.home) == 1
