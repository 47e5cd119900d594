"""An edit or a deletion that came before its message, and a restart before the message.

Slack keeps no order between events: Alice's edit (or deletion) of her first mention may
be stored by one process, which is then killed (SIGKILL: nothing flushed), and her
message itself delivered late to the next one. What the first process stored of the
change must hold: the edited text is what is answered, once; a deleted request never is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from signoff_e2e_kit import (
    BOT_USER,
    OPS,
    BotProcess,
    answered_deliveries,
    bot_messages,
    bot_reply,
    event_callback,
    until,
)

from bot.config import Settings
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

ALICE = "U0ALICE"
ASKS = f"<@{BOT_USER}> restart api"  # what Alice first wrote: a card, were it answered
EDITED = f"<@{BOT_USER}> status of web"
EDIT_1 = "1900000001.000000"


def _shown(ts: str, text: str, **more: Any) -> dict[str, Any]:
    return {"type": "message", "user": ALICE, "text": text, "ts": ts, **more}


def _change(kind: str, ts: str) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "message", "subtype": kind, "hidden": True}
    if kind == "message_changed":
        event["message"] = _shown(ts, EDITED, edited={"user": ALICE, "ts": EDIT_1})
    else:
        event["deleted_ts"] = ts
    event |= {"previous_message": _shown(ts, ASKS), "ts": EDIT_1, "event_ts": EDIT_1}
    return event_callback(
        f"Ev{kind[8:11]}early", {**event, "channel": OPS, "channel_type": "channel"}
    )


async def _send(slack: LocalSlack, payload: dict[str, Any], *, late: bool = False) -> None:
    sent = await slack.send_envelope(
        type="events_api", payload=payload, retry_attempt=1 if late else 0
    )
    assert not (await slack.wait_for_ack(sent.envelope_id, timeout=20)).timed_out


@pytest.fixture
def first_process(slack: LocalSlack, settings: Settings, tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(slack, settings.home, tmp_path)
    yield process
    process.kill()


@pytest.mark.parametrize("kind", ["message_changed", "message_deleted"])
async def test_a_change_stored_before_its_message_holds_across_a_restart(
    kind: str,
    slack: LocalSlack,
    first_process: BotProcess,
    start_bot: BotFactory,
    settings: Settings,
) -> None:
    try:
        await slack.wait_for_sockets(1, timeout=30)
    except TimeoutError:
        raise AssertionError("signoff run never connected:\n" + first_process.log()) from None
    first = await slack.post_message(channel=OPS, user=ALICE, text="hello")
    await until(lambda: answered_deliveries(slack, first), what="hello to be acked")
    await _send(slack, _change(kind, first))
    first_process.kill()

    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=10)
    mentioned = {"type": "app_mention", "user": ALICE, "text": ASKS, "ts": first, "channel": OPS}
    await _send(slack, event_callback("Evappmention", mentioned), late=True)
    twin = {**mentioned, "type": "message", "channel_type": "channel"}
    await _send(slack, event_callback("Evmessage", twin), late=True)
    if kind == "message_changed":
        await bot_reply(slack, first, "service=web")
        await bot.engine.idle()
        said = [m.get("text", "") for m in bot_messages(slack, first)]
        assert len(said) == 1, said
    else:
        reply = await slack.post_message(
            channel=OPS, user=ALICE, text="restart api", thread_ts=first
        )
        await until(lambda: answered_deliveries(slack, reply), what="the reply to be acked")
        await bot.engine.idle()
        assert bot_messages(slack, first) == []
