"""The App Home through the real Bolt app: "Waiting for you", decisions made from it (the
thread's card updates too), "Your open requests", "Recently decided", and refreshes.

LocalSlack runs the app exactly as manifest.yml declares it (scopes, events, Home tab).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    as_in_manifest,
    bot_reply,
    existing_message,
    has_buttons,
    home_buttons,
    home_of,
    home_texts,
    mention,
    outcome_text,
    published_for,
    published_past,
    restarts,
    until,
    wait_card,
    write_policy,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import SignoffBot
from bot.cards import APPROVE, DENY
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig
from sessions import FixedClock

if TYPE_CHECKING:
    from conftest import BotFactory


QUORUM = """\
[tools.deploy_service]
quorum = 2

[tools.restart_service]
approvers = ["U0BOB", "U0DAVE"]
"""


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=11, timing=FAST))) as server:
        yield server


async def test_the_home_queue_and_a_decision_made_from_it(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", QUORUM)
    bot: SignoffBot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    await slack.open_app_home(user="U0BOB")
    empty = await home_of(slack, "U0BOB", has="Waiting for you (0)")
    assert "Nothing waits for your decision." in home_texts(empty)
    assert home_buttons(empty) == []

    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    # Bob's Home refreshes by itself: the request waits for him, with the card's buttons.
    view = await home_of(slack, "U0BOB", has="Waiting for you (1)")
    text = home_texts(view)
    assert "*`restart_service`*  `service=api`" in text
    assert "asked by <@U0ALICE> in <#C0OPS>" in text
    assert ">restart api" in text  # her message, quoted
    assert "<!date^" in text and "(in 1 day)" in text  # the default 24 h expiry
    assert home_buttons(view) == [(APPROVE, approval), (DENY, approval)]
    confirm = next(b for b in view["blocks"] if b.get("type") == "actions")["elements"][0]
    assert "will run once" in confirm["confirm"]["text"]["text"]

    # Alice sees it among her open requests, not as something she may decide.
    await slack.open_app_home(user="U0ALICE")
    mine = await home_of(slack, "U0ALICE", has="Your open requests")
    assert "Waiting for you (0)" in home_texts(mine)
    assert "waiting for <@U0BOB>, <@U0DAVE>" in home_texts(mine)
    assert home_buttons(mine) == []

    # Bob approves from his Home: the same handlers as the card's buttons.
    await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    await bot_reply(slack, thread, "restart_service` finished")
    locked = slack.message(channel=OPS, ts=card["ts"])
    assert not has_buttons(locked)
    assert "Approved by <@U0BOB>" in outcome_text(locked)
    await bot.engine.idle()
    assert restarts(bot.engine.home.root) == 1
    after = await home_of(slack, "U0BOB", has="approved by <@U0BOB>", lacks="(1)")
    assert "Waiting for you (0)" in home_texts(after)
    assert home_buttons(after) == []
    hers = await home_of(slack, "U0ALICE", has="ran: ok")
    assert "Nothing you asked for is waiting." in home_texts(hers)
    assert "✅ approved by <@U0BOB>" in home_texts(hers)
    # Dave may approve, so the change concerns him, but he never opened his Home: nothing
    # was published for him (nor for Carol, whom it does not concern).
    assert published_for(slack, "U0DAVE") == 0
    assert published_for(slack, "U0CAROL") == 0
    # The trace says what became of the session that parked.
    await slack.slash_command(command="/signoff", user="U0BOB", channel=OPS, text="trace")
    traced = await slack.wait_for_ephemeral(user="U0BOB", text_contains="awaiting_approval →")
    assert "awaiting_approval → decided: approved by <@U0BOB>, continued in sess_" in traced["text"]


async def test_quorum_votes_and_a_denial_with_a_reason_from_the_home_tab(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", QUORUM)
    await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    for user in ("U0BOB", "U0CAROL", "U0DAVE"):
        await slack.open_app_home(user=user)
        await home_of(slack, user, has="Waiting for you (0)")

    thread = await mention(slack, "deploy web 2.1.0")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await home_of(slack, "U0BOB", has="0 of 2 approvals")
    await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    # Bob is told on his Home, where he clicked; the card shows the progress by name.
    bobs = await home_of(slack, "U0BOB", has="Your approval is counted: 1 of 2.")
    assert "✔ You approved it; 1 more needed." in home_texts(bobs)
    assert home_buttons(bobs) == []
    progress = await until(
        lambda: (
            "1 of 2 approvals: <@U0BOB>"
            in str(existing_message(slack, channel=OPS, ts=card["ts"])["blocks"])
        ),
        what="the card's progress",
    )
    assert progress
    assert not [e for e in slack.ephemeral_messages(user="U0BOB")]  # nothing in the thread
    await home_of(slack, "U0CAROL", has="1 of 2 approvals: <@U0BOB>")

    # Dave denies from his Home, with a reason, through the modal.
    await home_of(slack, "U0DAVE", has="1 of 2 approvals")
    await slack.click_view_button(user="U0DAVE", action_id=DENY, value=approval)
    modal = await until(lambda: slack.open_views(user="U0DAVE"), what="the deny modal")
    assert modal[0]["callback_id"] == "signoff_deny_reason"
    await slack.submit_view(
        user="U0DAVE", values={"reason": {"reason": "freeze <!channel> until Monday"}}
    )
    await bot_reply(slack, thread, "I did not run")
    denied = outcome_text(slack.message(channel=OPS, ts=card["ts"]))
    assert "Denied by <@U0DAVE>" in denied
    assert "freeze &lt;!channel&gt; until Monday" in denied
    daves = await home_of(slack, "U0DAVE", has="🚫 denied by <@U0DAVE>")
    assert "Waiting for you (0)" in home_texts(daves)
    # Bob's vote no longer waits on anything: his Home was refreshed too.
    await home_of(slack, "U0BOB", has="Waiting for you (0)", lacks="You approved it")


async def test_a_late_click_from_a_stale_home_is_answered_there(
    slack: LocalSlack, settings: Settings, e2e_clock: FixedClock
) -> None:
    bot = await SignoffBot.build(settings, clock=e2e_clock)
    bot.sweep_every = 3600  # no sweep redraws Dave's Home before he clicks
    await bot.start()
    try:
        await slack.wait_for_sockets(1, timeout=5)
        await slack.open_app_home(user="U0DAVE")
        thread = await mention(slack, "restart api")
        approval = approval_id_of(await wait_card(slack, thread))
        await home_of(slack, "U0DAVE", has="Waiting for you (1)")
        e2e_clock.advance(timedelta(days=2))  # the request expired while his tab was open
        await slack.click_view_button(user="U0DAVE", action_id=APPROVE, value=approval)
        told = await home_of(slack, "U0DAVE", has="Already decided: expired")
        assert "Waiting for you (0)" in home_texts(told)  # and it is gone from his list
        assert "⌛ expired" not in home_texts(told)  # not his, not his decision
        assert slack.ephemeral_messages(user="U0DAVE") == []
        await bot_reply(slack, thread, "was not run")
        await bot.engine.idle()
        assert restarts(settings.home) == 0
    finally:
        await bot.stop(grace=5)


@pytest.mark.parametrize("where", ["home", "card"])
async def test_a_home_drawn_before_a_restart_still_decides_and_stays_true(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, where: str
) -> None:
    first: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    await slack.open_app_home(user="U0BOB")
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await home_of(slack, "U0BOB", has="Waiting for you (1)")
    await first.stop(grace=5)

    # A new bot never saw Bob open his Home; the tab he still looks at works all the same,
    # and, approved on the card instead, it does not go on saying the request waits for
    # him (it was refreshed only for people the running bot had seen open theirs).
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    if where == "home":
        await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    else:
        await slack.click_button(
            channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE, value=approval
        )
    await bot_reply(slack, thread, "restart_service` finished")
    assert "Approved by <@U0BOB>" in outcome_text(slack.message(channel=OPS, ts=card["ts"]))
    await home_of(slack, "U0BOB", has="approved by <@U0BOB>", lacks="Waiting for you (1)")
    assert restarts(settings.home) == 1
    assert published_for(slack, "U0DAVE") == 0  # never opened: still nothing for him


async def test_a_home_slack_answers_with_json_cut_short_is_logged_in_one_line(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # A proxy that closes mid-answer leaves slack_sdk's error holding aiohttp's response,
    # which has no .get: the handler's own log line raised, a traceback and no word why.
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    slack.inject_fault(method="views.publish", cut_short=True)
    caplog.set_level(logging.WARNING, logger="signoff")
    await slack.open_app_home(user="U0BOB")
    said = await until(
        lambda: [r for r in caplog.records if "could not publish the Home" in r.getMessage()],
        what="the Home's log line",
    )
    assert "U0BOB" in said[0].getMessage() and not said[0].exc_info
    assert not [r for r in caplog.records if r.exc_info and r.levelno > logging.DEBUG]
    # The next opening publishes it.
    await slack.open_app_home(user="U0BOB")
    await home_of(slack, "U0BOB", has="Waiting for you (0)")


def _text_objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every text object in a payload (blocks, a view), however deep."""
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from _text_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _text_objects(item)


async def test_slack_parses_only_the_markup_signoff_writes(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    # Slack's text object reference: a mrkdwn object that is not ``verbatim`` turns plain
    # text into links and "certain mentions" (a handle such as @oncall, which the card's
    # quote of "<!subteam^S0ONCALL|@oncall>" shows as written). Only markup signoff wrote
    # (<@U…>, <!date^…>) may be parsed, on every surface that shows what people wrote.
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api, cc @here @oncall #general https://x.example")
    card = await wait_card(slack, thread)
    assert "@oncall" in str(card["blocks"])
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=DENY)
    (modal,) = await until(lambda: slack.open_views(user="U0BOB"), what="the deny modal")
    await slack.open_app_home(user="U0BOB")
    home = await slack.wait_for_home_view(lambda v: "@oncall" in str(v), user="U0BOB")
    for surface in (card["blocks"], modal, home):
        shown = [o for o in _text_objects(surface) if o["type"] == "mrkdwn"]
        assert shown and all(o.get("verbatim") is True for o in shown), shown


async def test_an_approval_with_a_reason_from_the_home_tab_is_answered_there(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    # With require_reason, Approve opens a modal; a click from the Home is answered on the
    # Home ("your approval is counted"), as a Deny's modal is, not in a thread elsewhere.
    policy = write_policy(
        tmp_path / "policy.toml", "[tools.deploy_service]\nquorum = 2\nrequire_reason = true\n"
    )
    await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    await slack.open_app_home(user="U0BOB")
    await home_of(slack, "U0BOB", has="Waiting for you (0)")
    thread = await mention(slack, "deploy web 2.1.0")
    approval = approval_id_of(await wait_card(slack, thread))
    await home_of(slack, "U0BOB", has="0 of 2 approvals")
    await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    (modal,) = await until(lambda: slack.open_views(user="U0BOB"), what="the approve modal")
    assert modal["callback_id"] == "signoff_approve_reason"
    await slack.submit_view(user="U0BOB", values={"reason": {"reason": "release day"}})
    bobs = await home_of(slack, "U0BOB", has="Your approval is counted: 1 of 2.")
    assert "✔ You approved it; 1 more needed." in home_texts(bobs)
    assert slack.ephemeral_messages(user="U0BOB") == []  # nothing in the thread


async def test_a_vote_refreshes_the_other_approvers_homes_when_its_card_is_gone(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    # A vote was reported to the Home tabs only through the card's update (CardUpdated):
    # with the card deleted from the channel, where the Home is the place left to decide,
    # Carol's went on saying "0 of 2 approvals" after Bob approved from his.
    policy = write_policy(tmp_path / "policy.toml", QUORUM)
    await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    for user in ("U0BOB", "U0CAROL"):
        await slack.open_app_home(user=user)
        await home_of(slack, user, has="Waiting for you (0)")
    thread = await mention(slack, "deploy web 2.1.0")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    for user in ("U0BOB", "U0CAROL"):
        await home_of(slack, user, has="0 of 2 approvals")
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    await web.chat_delete(channel=OPS, ts=card["ts"])  # someone removed the card
    await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    await home_of(slack, "U0BOB", has="Your approval is counted: 1 of 2.")
    carols = await home_of(slack, "U0CAROL", has="1 of 2 approvals: <@U0BOB>")
    assert home_buttons(carols) == [(APPROVE, approval), (DENY, approval)]


async def test_a_restart_draws_the_homes_of_people_who_come_back_and_not_of_those_gone(
    slack: LocalSlack, settings: Settings, e2e_clock: FixedClock
) -> None:
    """Who opened their Home was written once per process, when first seen: a bot that ran
    for months aged out, at its restart, people who opened theirs every day; and people
    who left stayed for ever, each start publishing a Home for them."""
    bot = await SignoffBot.build(settings, clock=e2e_clock)
    await bot.start()
    try:
        await slack.wait_for_sockets(1, timeout=5)
        for user in ("U0BOB", "U0DAVE"):
            await slack.open_app_home(user=user)
            await home_of(slack, user, has="Waiting for you (0)")
        for month in range(1, 5):  # Bob comes back every month; Dave never does
            e2e_clock.advance(timedelta(days=30))
            await slack.open_app_home(user="U0BOB")
            await until(published_past(slack, "U0BOB", month), what="his Home")
    finally:
        await bot.stop(grace=5)
    counts = {user: published_for(slack, user) for user in ("U0BOB", "U0DAVE")}

    again = await SignoffBot.build(settings, clock=e2e_clock)
    await again.start()
    try:
        await slack.wait_for_sockets(1, timeout=5)
        await until(lambda: published_for(slack, "U0BOB") > counts["U0BOB"], what="Bob's")
        assert again.home_tab is not None
        await again.home_tab.idle()
        assert published_for(slack, "U0DAVE") == counts["U0DAVE"]  # 120 days unseen
    finally:
        await again.stop(grace=5)


async def test_a_running_bot_stops_drawing_the_homes_of_people_unseen_for_90_days(
    slack: LocalSlack, start_bot: BotFactory, e2e_clock: FixedClock
) -> None:
    """People unseen for 90 days were let go only by a restart: a bot that ran on kept
    publishing, for every change to a request anyone may decide, a Home for each person
    who had left the workspace (which Slack refused)."""
    bot: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    for user in ("U0BOB", "U0DAVE"):
        await slack.open_app_home(user=user)
        await home_of(slack, user, has="Waiting for you (0)")
    e2e_clock.advance(timedelta(days=91))  # Bob comes back; Dave never does
    await slack.open_app_home(user="U0BOB")
    await until(published_past(slack, "U0BOB", 1), what="his Home")
    daves = published_for(slack, "U0DAVE")

    await wait_card(slack, await mention(slack, "restart api"))  # anyone may decide it
    await home_of(slack, "U0BOB", has="Waiting for you (1)")
    assert bot.home_tab is not None
    await bot.home_tab.idle()
    assert published_for(slack, "U0DAVE") == daves
