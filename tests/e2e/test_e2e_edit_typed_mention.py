"""An edit whose text holds the characters ``<@U0SIGNOFF>`` typed as text, not a mention.

Slack escapes ``&``, ``<`` and ``>`` in what a person types, so a mention is the markup
``<@U…>`` (or ``<@U…|name>``) and the typed characters arrive as ``&lt;@U…&gt;``; Slack
sends no ``app_mention`` for them, and ingest takes no new message for them. An edit is
judged the same: the typed characters ask signoff nothing (the ``message_changed`` shape
from docs.slack.dev/reference/events/message/message_changed).
"""

from __future__ import annotations

from typing import Any

from signoff_e2e_kit import (
    BOT_USER,
    OPS,
    answered_deliveries,
    bot_messages,
    bot_reply,
    send_ops_event,
    until,
)

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack
from sessions import Home, ThreadDir, ThreadKey, coordination_for

ALICE = "U0ALICE"
TYPED = f"&lt;@{BOT_USER}&gt; restart api"  # the characters, as Slack escapes them
EDITED = "1900000001.000000"


def _changed(ts: str, *, text: str, before: str) -> dict[str, Any]:
    def shown(said: str) -> dict[str, Any]:
        return {"type": "message", "user": ALICE, "text": said, "ts": ts}

    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "message": {**shown(text), "edited": {"user": ALICE, "ts": EDITED}},
        "previous_message": shown(before),
        "ts": EDITED,
        "event_ts": EDITED,
    }


async def test_an_edit_to_the_typed_characters_of_a_mention_asks_nothing(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    first = await slack.post_message(channel=OPS, user=ALICE, text="status of api")
    await until(lambda: answered_deliveries(slack, first), what="the message to be acked")
    await send_ops_event(slack, _changed(first, text=TYPED, before="status of api"), "Evtyped")
    # The legacy form of a real mention, edited in, is taken (so the bot is listening).
    later = await slack.post_message(channel=OPS, user=ALICE, text="status of web")
    await until(lambda: answered_deliveries(slack, later), what="the message to be acked")
    legacy = f"<@{BOT_USER}|signoff> status of web"
    await send_ops_event(slack, _changed(later, text=legacy, before="status of web"), "Evlegacy")
    await bot_reply(slack, later, "service=web")
    await bot.engine.idle()
    assert bot_messages(slack, first) == []
    assert not ThreadDir(
        Home(settings.home), ThreadKey(team="T0LOCAL", channel=OPS, thread_ts=first)
    ).path.exists()


async def test_a_waiting_mention_edited_to_its_typed_characters_is_withdrawn(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    first = await slack.post_message(channel=OPS, user=ALICE, text="hello")
    await until(lambda: answered_deliveries(slack, first), what="hello to be acked")
    key = ThreadKey(team="T0LOCAL", channel=OPS, thread_ts=first)
    asks = f"<@{BOT_USER}> restart api"
    async with coordination_for(Home(settings.home)).thread_locks.hold(key):
        mentioned = {"type": "app_mention", "user": ALICE, "text": asks, "ts": first}
        await send_ops_event(slack, mentioned, "Evmention")
        await send_ops_event(slack, _changed(first, text=TYPED, before=asks), "Evtypedout")
    tdir = ThreadDir(Home(settings.home), key)
    await bot.engine.idle()
    assert tdir.inbox.pending() == []
    assert bot_messages(slack, first) == []
