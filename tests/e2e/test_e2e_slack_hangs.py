"""A Slack Web API that takes a call and never answers, against the real bot: the call ends
at SIGNOFF_SLACK_TIMEOUT_S, and nothing is lost, posted twice or held up behind it.

A hung call may have landed (Slack stored the message, then hung) or not: a reply is
looked for in the thread before it is posted again, as after a 5xx.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest
from signoff_e2e_kit import (
    OPS,
    bot_messages,
    bot_reply,
    mention,
    outcome_text,
    restarts,
    thread_path,
    until,
    wait_card,
)

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

TIMEOUT_S = 1


async def started(start_bot: BotFactory, slack: LocalSlack) -> SignoffBot:
    bot: SignoffBot = await start_bot(slack_timeout_s=TIMEOUT_S)
    await slack.wait_for_sockets(1, timeout=5)
    return bot


@pytest.mark.parametrize("after_commit", [False, True])
async def test_a_reply_whose_post_hangs_is_in_the_thread_once_and_the_thread_goes_on(
    slack: LocalSlack, start_bot: BotFactory, after_commit: bool
) -> None:
    bot = await started(start_bot, slack)
    hung = slack.inject_fault(method="chat.postMessage", hang=True, after_commit=after_commit)
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,", timeout=15)
    assert hung.fired == 1
    await slack.post_message(channel=OPS, user="U0ALICE", text="status of web", thread_ts=thread)
    await bot_reply(slack, thread, "service=web,", timeout=15)
    await bot.engine.idle()
    assert len(bot_messages(slack, thread, "service=api,")) == 1
    assert len(bot_messages(slack, thread, "service=web,")) == 1


async def test_a_status_line_that_hangs_holds_up_no_reply(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    await started(start_bot, slack)
    hung = slack.inject_fault(method="assistant.threads.setStatus", hang=True, count=None)
    began = time.monotonic()
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,", timeout=15)
    assert hung.fired >= 1
    # Not one status call's timeout after another (three tries of each status shown).
    assert time.monotonic() - began < 2 * TIMEOUT_S + 1


async def test_a_card_update_that_hangs_holds_up_no_approved_call(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    bot = await started(start_bot, slack)
    thread = await mention(slack, "restart the api service")
    card = await wait_card(slack, thread)
    hung = slack.inject_fault(method="chat.update", hang=True)
    clicked = time.monotonic()
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: restarts(settings.home) == 1, what="the approved call", timeout=15)
    assert time.monotonic() - clicked < TIMEOUT_S
    await bot_reply(slack, thread, "restart_service` finished", timeout=15)
    await until(
        lambda: "Approved by <@U0BOB>" in outcome_text(slack.message(channel=OPS, ts=card["ts"])),
        what="the card updated to its true state",
        timeout=15,
    )
    await bot.engine.idle()
    assert hung.fired == 1
    assert restarts(settings.home) == 1


async def test_envelopes_are_acked_while_a_web_api_call_hangs(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    await started(start_bot, slack)
    hung = slack.inject_fault(method="chat.postMessage", hang=True, count=None)
    thread = await mention(slack, "status of api")
    await until(lambda: hung.fired == 1, what="the reply's post to hang")
    second = await mention(slack, "status of web")
    await slack.wait_for_delivery(
        lambda d: d.payload.get("event", {}).get("ts") == second and d.acked,
        timeout=TIMEOUT_S / 2,
    )
    slack.remove_fault(hung)
    await bot_reply(slack, thread, "service=api,", timeout=15)
    await bot_reply(slack, second, "service=web,", timeout=15)


async def test_a_status_line_that_landed_late_is_cleared_after_the_reply(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    """Slack showed "is thinking…" and hung twice: the second try lands after the reply
    went out (which cleared the line), and the thread must not go on saying it thinks."""
    await started(start_bot, slack)
    hung = slack.inject_fault(
        method="assistant.threads.setStatus", hang=True, after_commit=True, count=3
    )
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,", timeout=15)
    await until(lambda: hung.fired == 2, what="the status line's second try", timeout=15)
    await until(
        lambda: slack.thread_status(channel=OPS, thread_ts=thread) is None,
        what="the status line cleared",
        timeout=15,
    )
    changes = [(c["cause"], c["status"]) for c in slack.status_history(thread_ts=thread)]
    assert ("reply", "") in changes
    assert changes[-1][1] == ""


async def test_a_bot_stopped_while_its_post_hangs_stops_and_the_next_posts_once(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    """With Slack's default timeout, a hung post does not hold the stop beyond its fixed
    waits (the drain, 5 s for the outbox, 2 s for live streams); the post had landed, so
    the next process adopts it rather than posting it again."""
    bot: SignoffBot = await start_bot(drain_s=0)  # SIGNOFF_SLACK_TIMEOUT_S: 30
    await slack.wait_for_sockets(1, timeout=5)
    hung = slack.inject_fault(method="chat.postMessage", hang=True, after_commit=True)
    thread = await mention(slack, "status of api")
    await until(lambda: hung.fired == 1, what="the reply's post to hang")
    began = time.monotonic()
    await bot.stop()
    assert time.monotonic() - began < 5 + 2 + 2
    await until(lambda: not slack.sockets(), what="the old bot's socket to close")
    again: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    log = thread_path(settings.home, thread) / "outbox.jsonl"
    done = await until(lambda: log.exists() and log.read_text(), what="the reply recorded")
    assert [json.loads(line)["outcome"] for line in done.splitlines()] == ["adopted"]
    await again.engine.idle()
    assert len(bot_messages(slack, thread, "service=api,")) == 1


async def test_a_bot_stopped_while_its_reaction_hangs_stops_within_its_fixed_waits(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    """Where the status line is lacking, a taken message gets a reaction, in the
    background; one Slack never answers must not hold the stop for the client's whole
    timeout (30 s by default) on top of the drain: Kubernetes kills at 30 s."""
    slack.lack_surface(method="assistant.threads.setStatus", error="not_allowed_token_type")
    bot: SignoffBot = await start_bot(drain_s=0)  # SIGNOFF_SLACK_TIMEOUT_S: 30
    await slack.wait_for_sockets(1, timeout=5)
    first = await mention(slack, "status of api")
    await bot_reply(slack, first, "service=api,", timeout=15)  # the lack is known now
    hung = slack.inject_fault(method="reactions.add", hang=True)
    await mention(slack, "status of web")
    await until(lambda: hung.fired == 1, what="the reaction to hang")
    began = time.monotonic()
    await bot.stop()
    assert time.monotonic() - began < 5 + 2 + 2


async def test_a_hung_status_is_not_asked_again_once_a_newer_one_waits_behind_it(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    """Statuses of a thread are shown in order, each superseding the one before: a status
    whose call hung is given up for the one waiting behind it, not tried twice more (a
    Slack that hangs would hold the thread's status line back three timeouts a status)."""
    bot = await started(start_bot, slack)
    hung = slack.inject_fault(method="assistant.threads.setStatus", hang=True)
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,", timeout=15)
    await until(lambda: any(c.args.get("status") == "" for c in _statuses(slack)), timeout=15)
    await bot.engine.idle()
    assert hung.fired == 1
    shown = [c.args.get("status") for c in _statuses(slack)]
    assert shown[0] == "is thinking…" and shown[1] == "is running service_status…", shown


def _statuses(slack: LocalSlack) -> list[Any]:
    return slack.calls("assistant.threads.setStatus")


async def test_a_status_given_up_for_a_newer_one_is_still_cleared_when_the_session_ends(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    """A status call that hung may have landed. Behind a first hang, "is running…" goes
    out after the reply was posted (which cleared the line) and lands, then hangs too: it
    is given up for the session's end waiting behind it, and must still be cleared, not
    shown with the session over."""
    bot = await started(start_bot, slack)
    hung = slack.inject_fault(
        method="assistant.threads.setStatus", hang=True, after_commit=True, count=3
    )
    thread = await mention(slack, "status of api")
    await bot_reply(slack, thread, "service=api,", timeout=15)
    await until(lambda: hung.fired == 3, what="three status calls to hang", timeout=15)
    await bot.engine.idle()
    assert bot.live is not None
    await bot.live.settle()
    history = slack.status_history(channel=OPS, thread_ts=thread)
    assert slack.thread_status(channel=OPS, thread_ts=thread) is None, history


@pytest.mark.parametrize("hangs", [2, 3])
async def test_a_card_that_waits_shows_it_waits_when_statuses_before_it_hung(
    slack: LocalSlack, start_bot: BotFactory, hangs: int
) -> None:
    """Statuses given up for newer ones never cost the last word: once the card is up,
    the thread says it waits for approval (the card's post cleared what was set before)."""
    bot = await started(start_bot, slack)
    hung = slack.inject_fault(
        method="assistant.threads.setStatus", hang=True, after_commit=True, count=hangs
    )
    thread = await mention(slack, "restart the api service")
    await wait_card(slack, thread, timeout=15)
    await until(lambda: hung.fired == hangs, what="the status calls to hang", timeout=15)
    await bot.engine.idle()
    assert bot.live is not None
    await bot.live.settle()
    shown = slack.thread_status(channel=OPS, thread_ts=thread)
    assert shown is not None and shown["status"] == "is waiting for approval", shown
