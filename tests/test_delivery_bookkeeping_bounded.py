"""Delivery's in-memory notes about entries end with the entries, against LocalSlack
through slack_sdk.

``EntrySender`` notes which entries must be looked for in Slack before they are sent again
(``check_first``: every entry pending at a start, and any whose try may have landed) and
how many tries each failed (``attempts``). Only an entry that went out was forgotten: one
Slack refused for good (an archived channel, a channel signoff was taken out of), or one
skipped, stayed for as long as the bot ran, one more each time, for months.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient
from test_delivery_unrecorded import entry, until

from agent_core.delivery import Backoff, Delivery
from bot.slack_surface import SlackSurface
from localslack import LocalSlack
from sessions import Home, ThreadKey, coordination_for

OPS = "C0OPS"
THREADS = 120


async def test_entries_slack_refused_for_good_leave_no_notes_behind(
    slack: LocalSlack, home: Home
) -> None:
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    outbox = coordination_for(home).outbox
    # Queued before delivery starts, as a restart finds them: each is looked for first.
    for n in range(THREADS):
        thread = ThreadKey(team="T0LOCAL", channel=OPS, thread_ts=f"1700000000.{n:06d}")
        outbox.enqueue(entry(thread, f"m{n}", "reply", f"answer {n}"))
    # Each first try fails on Slack's side (it may have landed: tried again), then Slack
    # says the channel is archived: given up.
    slack.inject_fault(method="chat.postMessage", error="internal_error", status=500, count=THREADS)
    archived = slack.inject_fault(method="chat.postMessage", error="is_archived", count=None)
    backoff = Backoff(initial=0.01, maximum=0.01)
    delivery = Delivery(home=home, surface=SlackSurface(web), poll=0.05, backoff=backoff)
    delivery.start()
    try:
        await until(lambda: outbox.pending() == [], timeout=60)
    finally:
        await delivery.stop()
    assert archived.fired >= THREADS
    assert len(delivery.sender.attempts) == 0
    assert len(delivery.sender.check_first) == 0
