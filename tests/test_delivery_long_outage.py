"""Delivery keeps waiting between tries however long Slack refuses, against LocalSlack
through slack_sdk.

The backoff grew as ``factor ** attempt``: from the 1,025th try of the default one (60 s
apart, so 17 hours into an outage, or a token revoked on a Friday evening)
``2.0 ** 1024`` overflowed, no retry could be scheduled, and the thread's lane was started
again at once: Slack was asked in a tight loop. A factor that overflows on the third try
stands for it here.
"""

from __future__ import annotations

import itertools

from slack_sdk.web.async_client import AsyncWebClient
from test_delivery_unrecorded import asked, entry, until

from agent_core.delivery import Backoff, Delivery
from bot.slack_surface import SlackSurface
from localslack import LocalSlack
from sessions import Home, coordination_for

WAIT = 0.3


async def test_tries_after_the_backoff_outgrew_a_float_still_wait(
    slack: LocalSlack, home: Home
) -> None:
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    thread = await asked(slack)
    revoked = slack.inject_fault(method="chat.postMessage", error="token_revoked", count=None)
    coordination_for(home).outbox.enqueue(entry(thread, "m1", "reply", "All is well."))
    backoff = Backoff(initial=WAIT, factor=1e300, maximum=WAIT)
    delivery = Delivery(home=home, surface=SlackSurface(web), poll=0.05, backoff=backoff)
    delivery.start()
    try:
        await until(lambda: revoked.fired >= 5)
    finally:
        await delivery.stop()
    tries = [c.at for c in slack.calls("chat.postMessage")]
    gaps = [later - earlier for earlier, later in itertools.pairwise(tries)]
    assert min(gaps) >= WAIT * 0.9, gaps
    assert coordination_for(home).outbox.pending() != []  # kept, for when Slack takes it
