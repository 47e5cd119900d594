"""Regressions of the crash-safety issue seen through Slack (see tests/test_lifecycle_regressions.py).

3. a reply that failed to post was lost;
4. a decision made from a terminal left the card live, although the running bot should show it;
7. an approved call waited for its card's ``chat.update``.

And what the terminal lists as waiting once time has passed with no bot running.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from signoff_e2e_kit import (
    approval_id_of,
    bot_reply,
    cards,
    has_buttons,
    mention,
    restarts,
    until,
    wait_card,
)

from localslack import LocalSlack
from sessions import FixedClock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers_proc import cli, ok


async def run_cli(home: Path, *args: str, **kw: Any) -> Any:
    return await asyncio.to_thread(cli, home, *args, **kw)


async def test_4_a_decision_from_a_terminal_is_shown_on_the_card_by_the_running_bot(
    bot: Any, slack: LocalSlack, settings: Any
) -> None:
    thread = await mention(slack, "restart api")
    card = await until(lambda: next(iter(cards(slack, thread)), None), what="card")
    approval_id = approval_id_of(card)
    done = await run_cli(
        settings.home, "approve", approval_id, "--as", "U0BOB", frozen="2026-11-02 09:00:05"
    )
    ok(done)
    await until(
        lambda: not has_buttons(cards(slack, thread)[0]), timeout=15, what="card repaired by bot"
    )


async def test_3_a_reply_that_fails_to_post_is_posted_later(bot: Any, slack: LocalSlack) -> None:
    # chat.postMessage fails four times: more than the SDK's own retries (two) could cover.
    slack.inject_fault(method="chat.postMessage", status=500, error="internal_error", count=4)
    thread = await mention(slack, "status of api")
    reply = await bot_reply(slack, thread, "api", timeout=30)
    assert reply["thread_ts"] == thread


async def test_7_an_approved_call_does_not_wait_for_its_card(
    bot: Any, slack: LocalSlack, settings: Any
) -> None:
    thread = await mention(slack, "restart api")
    card = await until(lambda: next(iter(cards(slack, thread)), None), what="card")
    slack.inject_fault(method="chat.update", status=429, retry_after=3, count=1)
    started = time.monotonic()
    await slack.click_button(
        channel="C0OPS", ts=card["ts"], user="U0BOB", action_id="signoff_approve"
    )
    await until(lambda: restarts(settings.home) == 1, timeout=10, what="restart")
    assert time.monotonic() - started < 2.5, "the approved call waited for the card update"
    assert has_buttons(cards(slack, thread)[0]), "the card was updated before the call ran"


async def test_signoff_pending_does_not_list_a_request_that_expired_while_no_bot_ran(
    bot: Any, slack: LocalSlack, settings: Any, e2e_clock: FixedClock
) -> None:
    # The terminal listed it as waiting until a bot's sweep recorded the expiry, while
    # /signoff pending and the Home tab left it out, and `signoff approve` answered
    # "already decided: expired".
    lapsed = approval_id_of(await wait_card(slack, await mention(slack, "restart api")))
    e2e_clock.advance(timedelta(hours=12))
    waiting = approval_id_of(await wait_card(slack, await mention(slack, "restart web")))
    await bot.engine.idle()
    await bot.stop(grace=5)
    listed = ok(await run_cli(settings.home, "pending", frozen="2026-11-03 10:00:00")).stdout
    assert waiting in listed and lapsed not in listed
    done = await run_cli(
        settings.home, "approve", lapsed, "--as", "U0BOB", frozen="2026-11-03 10:00:00"
    )
    assert done.returncode == 1 and "already decided: expired" in done.stdout
    listed = ok(await run_cli(settings.home, "pending", frozen="2026-11-03 10:00:01")).stdout
    assert waiting in listed and lapsed not in listed
