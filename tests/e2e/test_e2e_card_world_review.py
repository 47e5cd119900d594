"""An approval while the Slack world around its card changes: the card deleted by a
person, Slack answering its update with a 5xx after applying it, or rate-limiting it.
The approved call runs once, the card (or the thread, when the card is gone) tells the
truth, a refusal for good is tried once and logged once, without a traceback. (Its
channel archived: ``test_e2e_card_channel_closed``.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    as_in_manifest,
    bot_reply,
    home_buttons,
    home_of,
    home_texts,
    mention,
    outcome_text,
    restarts,
    thread_path,
    tracebacks,
    until,
    wait_card,
    write_policy,
)

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory

DM = "D0ALICE"


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    """The workspace as the manifest sets it up (the Home tab on)."""
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=13, timing=FAST))) as server:
        yield server


def outbox_log(settings: Settings, thread: str) -> list[dict[str, Any]]:
    path: Path = thread_path(settings.home, thread) / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_a_deleted_card_decided_from_the_home_tab_runs_once_and_is_given_up_once(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await slack.open_app_home(user="U0BOB")
    await home_of(slack, "U0BOB", has="Waiting for you (0)")
    thread = await mention(slack, "restart the api service")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await home_of(slack, "U0BOB", has="Waiting for you (1)")
    assert slack.workspace.remove(OPS, card["ts"]) is not None  # a person deleted the card
    await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    done = await bot_reply(slack, thread, "restart_service` finished", timeout=5)
    assert "restarts=1" in done["text"]
    await bot.engine.idle()
    assert restarts(settings.home) == 1
    failed = [d for d in outbox_log(settings, thread) if d["outcome"] == "failed"]
    assert failed and {d["error"] for d in failed} == {"message_not_found"}
    assert len([c for c in slack.calls("chat.update")]) == len(failed)
    assert not tracebacks(caplog)


# A 5xx after Slack applied the update (twice), and 429s in a row (Retry-After 1 s).
@pytest.mark.parametrize(
    "fault_args",
    [
        {"status": 500, "after_commit": True, "count": 2},
        {"status": 429, "retry_after": 1, "count": 3},
    ],
    ids=["5xx-after-commit", "ratelimited"],
)
async def test_a_card_update_slack_fails_for_a_while_shows_the_result_once(
    slack: LocalSlack,
    bot: SignoffBot,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    fault_args: dict[str, Any],
) -> None:
    caplog.set_level(logging.INFO)
    thread = await mention(slack, "restart the api service")
    card = await wait_card(slack, thread)
    fault = slack.inject_fault(method="chat.update", **fault_args)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished", timeout=10)
    await until(
        lambda: "ran: ok" in outcome_text(slack.message(channel=OPS, ts=card["ts"])),
        what="the card showing the result",
        timeout=15,
    )
    await bot.engine.idle()
    assert fault.remaining == 0  # every fault answered
    assert restarts(settings.home) == 1
    assert [d for d in outbox_log(settings, thread) if d["outcome"] == "failed"] == []
    assert not tracebacks(caplog)


async def test_a_card_the_approvals_channel_refuses_is_still_decided_from_the_home_tab(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Asked in a direct message, the card goes to an approvals channel that was archived:
    it is given up once, and the request still reaches its approvers (their Home) and its
    asker (hers); decided there, the call runs once and the DM hears how it ended."""
    caplog.set_level(logging.INFO)
    bot = await start_bot(approvals_channel=OPS)
    await slack.wait_for_sockets(1, timeout=5)
    for user in ("U0ALICE", "U0BOB"):
        await slack.open_app_home(user=user)
        await home_of(slack, user, has="Waiting for you (0)")
    slack.inject_fault(method="chat.postMessage", channel=OPS, error="is_archived", count=None)
    await slack.post_message(channel=DM, user="U0ALICE", text="restart web")
    bobs = await home_of(slack, "U0BOB", has="Waiting for you (1)")
    approval = next(v for a, v in home_buttons(bobs) if a == APPROVE)
    await home_of(slack, "U0ALICE", has="restart_service")
    await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    await slack.wait_for_message(
        channel=DM, from_bot=True, text_contains="restart_service` finished", timeout=10
    )
    await bot.engine.idle()
    assert restarts(settings.home, "web") == 1
    gave_up = [r.getMessage() for r in caplog.records if r.getMessage().startswith("gave up")]
    assert gave_up and all("is_archived" in m for m in gave_up)
    posts = [c for c in slack.calls("chat.postMessage") if c.args.get("channel") == OPS]
    assert len(posts) == len(gave_up)  # once per card version, never retried
    assert not tracebacks(caplog)


async def test_the_asker_is_told_once_when_the_approvals_channel_refuses_her_card(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    """Her direct message heard nothing until the decision (a day by default): the
    pointer to the card is posted only once the card is, and her Home said the request
    waits in #ops, where nobody could see it. Now the direct message says the card could
    not be posted there and why, and that approvers can still decide from their Home
    tab; once, whatever later versions of the card meet."""
    bot = await start_bot(approvals_channel=OPS)
    await slack.wait_for_sockets(1, timeout=5)
    slack.inject_fault(method="chat.postMessage", channel=OPS, error="is_archived", count=None)
    posted = await slack.post_message(channel=DM, user="U0ALICE", text="restart web")
    told = await slack.wait_for_message(
        channel=DM, from_bot=True, text_contains="could not post", timeout=10
    )
    assert told.get("thread_ts") == posted
    assert "is_archived" in told["text"] and "Home" in told["text"]
    assert "<#C0OPS>" in told["text"]
    await slack.open_app_home(user="U0BOB")
    bobs = await home_of(slack, "U0BOB", has="Waiting for you (1)")
    approval = next(v for a, v in home_buttons(bobs) if a == APPROVE)
    await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    await slack.wait_for_message(
        channel=DM, from_bot=True, text_contains="restart_service` finished", timeout=10
    )
    await bot.engine.idle()
    notices = [m for m in slack.messages(channel=DM) if "could not post" in str(m.get("text"))]
    assert len(notices) == 1, notices


async def test_a_card_refused_again_after_a_vote_tells_the_asker_no_second_time(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    """Each undecided version of a refused card (here: after the first of two approvals)
    meets the same refusal; the direct message's thread is read first, and the notice
    that is there already is not posted again."""
    policy = write_policy(tmp_path / "policy.toml", "[tools.restart_service]\nquorum = 2\n")
    bot = await start_bot(approvals_channel=OPS, policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    slack.inject_fault(method="chat.postMessage", channel=OPS, error="is_archived", count=None)
    await slack.post_message(channel=DM, user="U0ALICE", text="restart web")
    await slack.wait_for_message(channel=DM, from_bot=True, text_contains="could not post")
    await slack.open_app_home(user="U0BOB")
    bobs = await home_of(slack, "U0BOB", has="Waiting for you (1)")
    approval = next(v for a, v in home_buttons(bobs) if a == APPROVE)
    refused_before = len(slack.calls("chat.postMessage"))
    await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    # The vote's version of the card is tried, refused, and the thread looked at.
    await until(
        lambda: (
            len(slack.calls("chat.postMessage")) > refused_before
            and slack.calls("conversations.replies")
        ),
        what="the vote's card refused and the thread read",
    )
    await bot.engine.idle()
    notices = [m for m in slack.messages(channel=DM) if "could not post" in str(m.get("text"))]
    assert len(notices) == 1, notices


async def test_the_askers_home_says_her_card_could_not_be_posted_not_that_it_waits_there(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    """Her Home said the request waited "in #ops", where nobody could see it: it now
    says the card could not be posted there, with Slack's reason, and where approvers
    decide it instead."""
    await start_bot(approvals_channel=OPS)
    await slack.wait_for_sockets(1, timeout=5)
    slack.inject_fault(method="chat.postMessage", channel=OPS, error="is_archived", count=None)
    asked = await slack.post_message(channel=DM, user="U0ALICE", text="restart web")
    await slack.wait_for_message(channel=DM, from_bot=True, text_contains="could not post")
    # The notice goes before the card's entry is recorded failed, which the Home reads.
    log = thread_path(settings.home, asked, channel=DM) / "outbox.jsonl"
    await until(
        lambda: log.exists() and '"outcome":"failed"' in log.read_text().replace(" ", ""),
        what="the card's entry recorded failed",
    )
    await slack.open_app_home(user="U0ALICE")
    hers = home_texts(await home_of(slack, "U0ALICE", has="restart_service"))
    assert "could not be posted in <#C0OPS> (is_archived)" in hers, hers
    assert "\nin <#C0OPS>" not in hers, hers
    assert "Home tab" in hers and "`signoff pending`" in hers


@pytest.mark.parametrize("error", ["invalid_blocks", "msg_too_long"])
async def test_a_card_slack_refuses_for_good_is_said_in_its_thread(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, error: str
) -> None:
    """Slack refuses the card itself (its blocks, its length) while the thread takes posts:
    the request waited unseen, and the thread showed only the mention, until it expired.
    Now the thread says the card could not be posted, why, and where approvers can still
    decide it; once, whatever later versions of the card meet."""
    slack.inject_fault(method="chat.postMessage", channel=OPS, error=error)
    thread = await mention(slack, "restart the api service")
    note = await bot_reply(slack, thread, "could not post")
    assert error in note["text"] and "Home tab" in note["text"], note["text"]
    await slack.open_app_home(user="U0BOB")
    bobs = await home_of(slack, "U0BOB", has="Waiting for you (1)")
    approval = next(v for a, v in home_buttons(bobs) if a == APPROVE)
    await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    await bot_reply(slack, thread, "restart_service` finished")
    await bot.engine.idle()
    assert restarts(settings.home) == 1
    notes = [m for m in slack.thread(channel=OPS, ts=thread) if "could not post" in m["text"]]
    assert len(notes) == 1, notes
