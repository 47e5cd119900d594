"""``Engine.check_click`` on a request whose card is not posted yet (Slack unreachable, or
the card posted and its record not yet written): a click may only come from where that
card is (or will be), as for a Home-tab click, whose card must be in a channel the
clicker can see. A payload naming any other channel is not from its card."""

from __future__ import annotations

from engine_support import EngineFactory, message

from agent_core.surface import CardView, Delivered, DeliveryError, RecordingSurface
from approvals import Capsule
from sessions import OutboxEntry


class Unreachable(RecordingSurface):
    """Slack cannot be reached for cards: every card waits, unposted."""

    async def show_card(
        self, entry: OutboxEntry, view: CardView, *, check_first: bool
    ) -> Delivered:
        raise DeliveryError("Slack is unreachable", retry_after=3600)


async def test_a_click_on_an_unposted_card_counts_only_from_its_channel(
    make_engine: EngineFactory,
) -> None:
    engine = await make_engine(surface=Unreachable())
    await engine.ingest(message("<@U0BOT> restart api", ts="1700000000.000100"))
    await engine.idle()
    (waiting,) = await engine.waiting()
    approval_id = waiting.capsule.id

    forged = engine.check_click(approval_id, channel="C0PRIVATE", message_ts="1700000009.000100")
    assert isinstance(forged, str), "a click from another channel passed for an unposted card"
    # Its own channel: the card may have been posted, its record not yet written.
    own = engine.check_click(approval_id, channel="C0OPS", message_ts="1700000001.000100")
    assert isinstance(own, Capsule)
