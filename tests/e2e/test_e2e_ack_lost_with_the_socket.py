"""An ack written to a socket that then dies is lost: Slack delivers the event again, on
the new socket, and it is answered once.

The bot stores the message, then acks; the ack is written but the network is gone
(``freeze_sockets``: Slack reads nothing more from it), and the connection is cut
(``drop_sockets``). From the bot's side the envelope was acked; Slack never saw the ack,
so after its timeout it delivers the event again (``retry_attempt`` 1, reason
``timeout``) on the socket the bot opens next. The stored copy makes it a duplicate:
acked, and the person gets one answer.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import bot_reply, deliveries_of, mention, quick_acks, until
from test_e2e_delivery import status_answers

from bot.config import Settings
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory


@quick_acks
async def test_a_stored_message_whose_ack_died_with_the_socket_is_answered_once(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="signoff.events")
    bot = await start_bot(ping_interval=0.2)
    await slack.wait_for_sockets(1, timeout=5)
    assert slack.freeze_sockets() == ["socket-1"]  # from here Slack reads nothing of it

    def acked_by_the_bot() -> int:
        return sum(r.getMessage() == "envelope_acked" for r in caplog.records)

    thread = await mention(slack, "status of api")
    # Both envelopes (the message and its app_mention twin) stored and acked, as the bot sees it.
    await until(lambda: acked_by_the_bot() >= 2, what="the bot's acks")
    assert not any(d.acked for d in deliveries_of(slack, thread))
    assert slack.drop_sockets() == ["socket-1"]

    await until(
        lambda: any(
            d.retry_attempt == 1 and d.socket_id != "socket-1" and d.acked
            for d in deliveries_of(slack, thread)
        ),
        what="the event delivered again on the new socket, and acked",
    )
    await bot_reply(slack, thread, "service=api,")
    await bot.engine.idle()
    assert len(status_answers(slack, thread, "api")) == 1
    redelivered = [d for d in deliveries_of(slack, thread) if d.retry_attempt]
    assert all(d.retry_reason == "timeout" for d in redelivered)
