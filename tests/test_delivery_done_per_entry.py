"""A sent entry is recorded as done before its lane sends the next one: a drainer killed
while a later entry of the thread is in flight (a post that hangs, a streamed reply
waiting for its turn's tools) must not leave an earlier one pending. A reply or a card
left pending is found in Slack and adopted, but a notice is ephemeral: Slack cannot be
asked whether it landed, so the next drainer showed it a second time.

The drainer runs in its own process (a real SIGKILL), against LocalSlack through
slack_sdk; the next one runs here."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient
from test_delivery_unrecorded import OPS, asked, entry, until

from agent_core.delivery import Delivery
from bot.slack_surface import SlackSurface
from localslack import LocalSlack
from sessions import Home, coordination_for

# The drainer of a bot, alone: ``argv``: the home, the token, Slack's API url.
_DRAINER = """
import asyncio, sys
from pathlib import Path
from slack_sdk.web.async_client import AsyncWebClient
from agent_core.delivery import Delivery
from bot.slack_surface import SlackSurface
from sessions import Home

async def main() -> None:
    web = AsyncWebClient(token=sys.argv[2], base_url=sys.argv[3])
    delivery = Delivery(home=Home(Path(sys.argv[1])), surface=SlackSurface(web), poll=0.05)
    delivery.start()
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_notice_sent_before_a_drainer_is_killed_is_not_shown_again(
    slack: LocalSlack, home: Home
) -> None:
    thread = await asked(slack)
    outbox = coordination_for(home).outbox
    notice = entry(thread, "n1", "notice", "only you see this")
    outbox.enqueue(notice)
    outbox.enqueue(entry(thread, "m1", "reply", "all green"))
    hung = slack.inject_fault(method="chat.postMessage", hang=True)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    drainer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _DRAINER, str(home.root), slack.bot_token, slack.api_url, env=env
    )
    try:
        # The notice went out; the reply's post is in flight when the drainer dies.
        await until(lambda: hung.fired == 1 or drainer.returncode is not None, timeout=20)
        assert drainer.returncode is None, "the drainer died"
        assert len(slack.calls("chat.postEphemeral")) == 1
    finally:
        if drainer.returncode is None:
            drainer.send_signal(signal.SIGKILL)
        await drainer.wait()
    assert outbox.done(thread, notice.id) is not None, "the notice went out, not recorded"

    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    delivery = Delivery(home=home, surface=SlackSurface(web), poll=0.05)
    delivery.start()
    try:
        await until(lambda: outbox.pending() == [], timeout=20)
        await asyncio.wait_for(delivery.idle(), timeout=10)
    finally:
        await delivery.stop()
    notes = slack.ephemeral_messages(user="U0ALICE", channel=OPS)
    assert [n["text"] for n in notes] == ["only you see this"]
    replies = [m for m in slack.messages(channel=OPS) if m.get("text") == "all green"]
    assert len(replies) == 1
