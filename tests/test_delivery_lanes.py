"""A streamed reply waits for its turn's calls before delivery makes it final (up to five
minutes), against LocalSlack through slack_sdk. That wait held one of delivery's lanes:
with as many turns running slow tools as there are lanes, no other thread got a reply or
a card until one of them ended. Waiting now takes no lane.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient
from test_delivery_unrecorded import asked, entry, until

from agent_core.delivery import Delivery
from agent_core.live import LiveTurn
from bot.live_streams import LiveStreams
from bot.slack_surface import SlackSurface
from localslack import LocalSlack
from sessions import Home, coordination_for

LANES = 2


async def test_replies_waiting_for_their_turns_hold_back_no_other_thread(
    slack: LocalSlack, home: Home
) -> None:
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    streams = LiveStreams(web, home=home, finalize_wait=300)
    outbox = coordination_for(home).outbox
    busy = []
    for n in range(LANES):  # each reply's turn is still running a tool
        thread = await asked(slack)
        reply = entry(thread, f"m{n}", "reply", f"Restarting {n}…")
        turn = LiveTurn(thread=thread, session_id=reply.session_id)
        busy.append(streams.open(turn, entry_id=reply.id, people=()))
        outbox.enqueue(reply)
    other = await asked(slack)
    outbox.enqueue(entry(other, "m9", "reply", "All is well."))
    surface = SlackSurface(web, streams=streams)
    delivery = Delivery(home=home, surface=surface, poll=0.05, max_lanes=LANES)
    delivery.start()
    try:
        await until(lambda: slack.calls("chat.postMessage"), timeout=5)
        [posted] = slack.calls("chat.postMessage")
        assert posted.args["thread_ts"] == other.thread_ts
        for stream in busy:  # the turns end: their replies go out
            await stream.close()
        await until(lambda: not outbox.pending(), timeout=5)
    finally:
        await delivery.stop()
    assert len(slack.calls("chat.postMessage")) == LANES + 1
