"""``/signoff pending`` says how many requests wait, not how many it lists: it read at most
20 and said "20 request(s) waiting for you" of 23, which the Home tab counted right."""

from __future__ import annotations

import asyncio

from signoff_e2e_kit import OPS, mention, until, wait_card

from bot.app import SignoffBot
from localslack import LocalSlack

WAITING = 23


async def test_pending_counts_every_request_waiting_and_says_what_it_leaves_out(
    slack: LocalSlack, bot: SignoffBot
) -> None:
    threads = [await mention(slack, f"restart api{n}") for n in range(WAITING)]
    await asyncio.gather(*(wait_card(slack, thread, timeout=60) for thread in threads))
    await bot.engine.idle()
    await slack.slash_command(command="/signoff", user="U0BOB", channel=OPS, text="pending")
    answers = await until(lambda: slack.ephemeral_messages(user="U0BOB"), what="the answer")
    text = str(answers[0]["text"])
    assert text.startswith(f"{WAITING} request(s) waiting for you"), text[:200]
    assert text.count("• `restart_service` asked by") == 20, text
    assert text.endswith("…and 3 more, not listed here."), text[-200:]
