"""A link is taken as being replaced from the frame that says so, and an ack goes on the
link its envelope came on, whenever it was read.

The link Slack warned about was taken as being replaced only when the disconnect's
listener ran, and moved aside only once the next link had been asked for: a second
routine ``disconnect`` read on it in between (Slack's ``refresh_requested`` after its
``warning``) found the new, healthy link not being replaced and replaced it the SDK's way
(closed, a third link, a ``socket_down``). And only envelopes read after the
handover were acked on their own link: one read before the warning and acked after the
next link was up (a slow handler) was acked on the new link while the old one was open.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest
from signoff_e2e_kit import OPS, until
from test_e2e_form_slow_lookup import REASON, form_open_on_private_card

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.reason_modal import APPROVE_MODAL
from localslack import LocalSlack

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import BotFactory

PING = 10  # production's: nothing but Slack's frames wakes a link's reader


def _open(slack: LocalSlack) -> set[str]:
    return {str(s["id"]) for s in slack.sockets()}


def _downs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "signoff.events" and r.getMessage() == "socket_down"
    ]


@pytest.mark.parametrize("second", ["refresh_requested", "warning"])
async def test_a_second_disconnect_before_the_handover_leaves_the_next_link_be(
    slack: LocalSlack, start_bot: BotFactory, caplog: pytest.LogCaptureFixture, second: str
) -> None:
    caplog.set_level(logging.INFO)
    bot = await start_bot(ping_interval=PING)
    client = bot.handler.client
    await until(lambda: client.link_problem() is None, what="the link up")
    (old,) = _open(slack)
    held = slack.hold_calls(method="apps.connections.open", count=1)
    await slack.disconnect_sockets(reason="warning", socket_id=old)
    await held.wait_held(timeout=5)  # the next link is being asked for: the old one current
    # Slack may send on a link it asked to refresh until it closes it.
    await slack.disconnect_sockets(reason=second, socket_id=old, drain=False)
    sent = await slack.slash_command(command="/signoff", user="U0ALICE", channel=OPS, text="help")
    # Read after the second disconnect on the same link: once it is acked, so was that.
    await slack.wait_for_delivery(lambda d: d.envelope_id == sent.envelope_id and d.acked)
    held.release()
    await slack.wait_for_connections(2, timeout=5)
    await until(lambda: client.link_problem() is None, what="the next link up")
    await slack.close_sockets(socket_id=old)
    await until(lambda: client.replaced_links() == 0, what="the old link let go")
    answered = await slack.slash_command(
        command="/signoff", user="U0ALICE", channel=OPS, text="help"
    )
    done = await slack.wait_for_delivery(
        lambda d: d.envelope_id == answered.envelope_id and (d.acked or d.timed_out)
    )
    assert done.acked
    assert len(slack.calls("apps.connections.open")) == 2
    assert len(_open(slack)) == 1
    assert not _downs(caplog)  # a refresh: the link never went down
    assert [r.getMessage() for r in caplog.records if r.name == "signoff.events"].count(
        "socket_handover"
    ) == 1


async def test_an_envelope_read_before_the_warning_is_acked_on_its_own_link(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    """A form is acked after its check, which may ask Slack: meanwhile the link it came on
    is warned about and replaced; its ack goes on it, still open, not on the next one."""
    started: list[SignoffBot] = []

    async def starting(**changes: Any) -> SignoffBot:
        started.append(await start_bot(**changes))
        return started[-1]

    await form_open_on_private_card(slack, starting, tmp_path, APPROVE, ping_interval=PING)
    client = started[0].handler.client
    await until(lambda: client.link_problem() is None, what="the link up")
    (old,) = _open(slack)
    held = slack.hold_calls(method="conversations.members")
    sent = await slack.submit_view(user="U0BOB", callback_id=APPROVE_MODAL, values=REASON)
    await held.wait_held(timeout=5)  # read on the old link; its ack waits on Slack
    await slack.disconnect_sockets(reason="warning", socket_id=old)
    await slack.wait_for_connections(2, timeout=5)
    await until(lambda: client.link_problem() is None, what="the next link up")
    assert client.replaced_links() == 1
    held.release()
    done = await slack.wait_for_delivery(
        lambda d: d.envelope_id == sent.envelope_id and (d.acked or d.timed_out)
    )
    assert done.acked and done.socket_id == old
    assert done.acked_on == old
