"""A request outlives the process that made it (design §1.3, flows 5-7, I6).

The first bot is a real ``signoff run`` subprocess: it takes the mention, parks the call and
posts the card, and is then SIGKILLed — no shutdown, nothing flushed. The second bot is built
in-process with ``SignoffBot.build(settings, clock=FixedClock(now + 2 days))``: an injected
clock is the only way to be "two days later" without waiting, and an in-process bot lets the
test read its engine directly (``engine.idle()``, ``engine.sweep()``). What makes the test
cross-process is the first bot: everything the second one knows it must read from disk and
Slack, since the process that wrote it is gone.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from signoff_e2e_kit import (
    OPS,
    BotProcess,
    approval_id_of,
    bot_messages,
    bot_reply,
    capsule,
    card_record,
    cards,
    ephemeral,
    existing_card_record,
    existing_decision,
    fleet,
    has_buttons,
    mention,
    outcome_text,
    restarts,
    session_states,
    stale_click,
    until,
    wait_card,
    write_policy,
)

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.config import Settings
from bot.slack_text import ABSOLUTE, parse_utc, slack_date
from localslack import LocalSlack
from sessions import FixedClock

if TYPE_CHECKING:
    from conftest import BotFactory


WEEK = '[default]\nexpires_after = "7d"\n'


# The ``launch`` fixture: ``launch(policy)`` starts ``signoff run`` as a process.
Launch = Callable[[Path | None], BotProcess]


@pytest.fixture
def launch(slack: LocalSlack, settings: Settings, tmp_path: Path) -> Iterator[Launch]:
    started: list[BotProcess] = []

    def run(policy: Path | None = None) -> BotProcess:
        process = BotProcess(slack, settings.home, tmp_path, policy)
        started.append(process)
        return process

    yield run
    for process in started:
        process.kill()


async def park_a_restart_in_a_killed_process(
    slack: LocalSlack, launch: Launch, home: Path, policy: Path | None = None
) -> tuple[str, dict[str, Any], str]:
    """`signoff run` posts the card for "restart api", then dies by SIGKILL."""
    process = launch(policy)
    try:
        await slack.wait_for_sockets(1, timeout=30)
    except TimeoutError:
        raise AssertionError("signoff run never connected:\n" + process.log()) from None
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread, timeout=20)
    approval = approval_id_of(card)
    # The card's channel/ts are saved beside the capsule right after chat.postMessage.
    await until(lambda: card_record(home, approval), what="the card record on disk")
    await until(
        lambda: set(session_states(home).values()) == {"awaiting_approval"},
        what="the session parked",
    )
    process.kill()
    assert process.proc.returncode == -signal.SIGKILL
    await until(lambda: not slack.sockets(), what="the dead process's socket to close")
    return thread, card, approval


async def test_approval_days_later_in_a_new_process_runs_the_stored_call_once(
    slack: LocalSlack,
    launch: Launch,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    home = settings.home
    policy = write_policy(tmp_path / "week.toml", WEEK)
    thread, card, approval = await park_a_restart_in_a_killed_process(slack, launch, home, policy)
    asked = capsule(home, approval)
    assert card_record(home, approval) == {
        **existing_card_record(home, approval),
        "channel": OPS,
        "ts": card["ts"],
    }

    # A new bot, two days later, knows the request only from disk.
    e2e_clock.current = datetime.now(UTC) + timedelta(days=2)
    bot: SignoffBot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    await bot.engine.idle()
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))  # not expired: 7d policy
    slack.clear_calls()

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    done = await bot_reply(slack, thread, "restart_service` finished")
    assert done["thread_ts"] == thread
    assert "restarts=1" in done["text"]
    await bot.engine.idle()

    # The card was locked in place, through chat.update on the stored channel/ts: once when
    # it was decided, once more to show the call ran. Every update is the same card.
    updates = slack.calls("chat.update")
    assert 1 <= len(updates) <= 2 and all(u.ok for u in updates)
    assert {(u.args["channel"], u.args["ts"]) for u in updates} == {(OPS, card["ts"])}
    locked = slack.message(channel=OPS, ts=card["ts"])
    assert not has_buttons(locked)
    assert "Approved by <@U0BOB>" in outcome_text(locked)
    assert len(cards(slack, thread)) == 1  # no second card from recovery
    # The exact stored call ran once, keyed by the approval id, with the new clock's date.
    assert restarts(home) == 1
    history = fleet(home)["history"]
    assert [h["key"] for h in history] == [approval]
    assert history[0]["requested_by"] == "U0ALICE"
    made = existing_decision(home, approval)
    assert made["args_sha256"] == asked["args_sha256"]
    assert made["at"].startswith(e2e_clock.current.strftime("%Y-%m-%d"))
    assert set(session_states(home).values()) <= {"completed", "awaiting_approval", "failed"}
    assert len(bot_messages(slack, thread, "restart_service` finished")) == 1


async def test_a_request_expired_while_no_bot_ran_is_expired_by_the_next_one(
    slack: LocalSlack,
    launch: Launch,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
) -> None:
    home = settings.home
    thread, card, approval = await park_a_restart_in_a_killed_process(slack, launch, home)
    expires_at = capsule(home, approval)["expires_at"]

    e2e_clock.current = datetime.now(UTC) + timedelta(days=2)
    bot: SignoffBot = await start_bot()  # default policy: 24h
    await slack.wait_for_sockets(1, timeout=5)
    # Start-up recovery already swept; a second sweep finds nothing left to do.
    assert await bot.engine.sweep() == 0
    told = await bot_reply(slack, thread, "was not run")
    assert "restart_service" in told["text"]
    await bot.engine.idle()

    expired_card = slack.message(channel=OPS, ts=card["ts"])
    assert not has_buttons(expired_card)
    assert "Expired" in outcome_text(expired_card)
    assert [c.args["ts"] for c in slack.calls("chat.update")] == [card["ts"]]
    verdict = existing_decision(home, approval)
    assert verdict["verdict"] == "expired" and verdict["deciders"] == ["signoff"]
    assert expires_at in verdict["reason"]

    # Someone whose client still shows the open card clicks Approve.
    await stale_click(slack, ts=card["ts"], user="U0BOB", action_id=APPROVE, blocks=card["blocks"])
    late = await ephemeral(slack, "U0BOB", "Already decided")
    assert late["text"].startswith("Already decided: expired")
    await bot.engine.idle()
    assert restarts(home) == 0
    assert existing_decision(home, approval)["verdict"] == "expired"
    assert len(bot_messages(slack, thread, "was not run")) == 1


async def test_requests_that_expired_while_no_bot_ran_do_not_hold_up_the_link_to_slack(
    slack: LocalSlack,
    launch: Launch,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Expiring costs about 15 ms a request (its decision, card and post, synced), and
    # start-up expired every request due before it connected: a home back from a long
    # weekend with 2,000 requests past their deadline took 27 s to connect, and every
    # click and mention meanwhile waited on Slack's retries. Now the link comes first;
    # a click on a card the sweep has not reached is judged at its own time all the same.
    caplog.set_level(logging.INFO, logger="signoff")
    home = settings.home
    thread, _card, approval = await park_a_restart_in_a_killed_process(slack, launch, home)
    e2e_clock.current = datetime.now(UTC) + timedelta(days=2)
    await start_bot()
    await bot_reply(slack, thread, "was not run")
    events = [r for r in caplog.records if r.name == "signoff.events"]
    expired_at = next(r.created for r in events if r.getMessage() == "approval_expired")
    # Linked first: Slack took the bot's socket before the expiry. (Its socket_up is said at
    # Slack's hello, which a loaded machine may hand over after the sweep has begun.)
    (link,) = slack.sockets()
    assert link["connected_at"] < expired_at, (link, expired_at)
    assert "socket_up" in [r.getMessage() for r in events]
    assert existing_decision(home, approval)["verdict"] == "expired"


async def test_an_expired_card_names_the_deadline_not_the_time_of_the_sweep(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, e2e_clock: FixedClock
) -> None:
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await bot.engine.idle()
    expires_at = capsule(settings.home, approval)["expires_at"]
    e2e_clock.advance(timedelta(days=2))  # the bot was down when the request expired
    assert await bot.engine.sweep() == 1
    told = await bot_reply(slack, thread, "was not run")
    assert expires_at in told["text"]
    # The card names it in each reader's time zone (the fallback spells it out in UTC).
    deadline = slack_date(parse_utc(expires_at), tokens=ABSOLUTE)
    assert f"no decision before {deadline}" in outcome_text(
        slack.message(channel=OPS, ts=card["ts"])
    )
