"""Seeded chaos: every event delivered 1-3 times, sockets dropped at random moments, and all
of it countable afterwards."""

from __future__ import annotations

from collections import Counter

import pytest
from localslack_testkit import Inbox, close_client, connect_socket_client

from localslack import Delivery, LocalSlack
from localslack.chaos import Chaos, DropPoint

OPS = "C0OPS"


def test_a_seed_replays_the_same_decisions() -> None:
    def decisions(seed: int) -> tuple[list[int], list[DropPoint | None]]:
        chaos = Chaos(clock=lambda: 0.0)
        chaos.duplicate_events(seed=seed)
        copies = [chaos.copies() for _ in range(30)]
        chaos.drop_sockets(seed=seed, probability=0.3)
        drops = [chaos.drop_point() for _ in range(30)]
        return copies, drops

    assert decisions(7) == decisions(7)
    copies, drops = decisions(7)
    assert set(copies) == {1, 2, 3}
    assert {"before_send", "after_send", None} == set(drops)
    assert decisions(8) != decisions(7)
    with pytest.raises(ValueError, match="probability"):
        Chaos(clock=lambda: 0.0).drop_sockets(seed=1, probability=1.5)


async def test_every_event_arrives_one_to_three_times(slack: LocalSlack) -> None:
    slack.duplicate_events(seed=42)
    inbox = Inbox()
    client = await connect_socket_client(slack, inbox)
    try:
        for i in range(12):
            await slack.post_message(channel=OPS, user="U0BOB", text=f"m{i}")
        duplicated = slack.chaos_events(kind="duplicate")
        expected = 12 + sum(e.detail["copies"] - 1 for e in duplicated)
        await inbox.wait_until(lambda: len(inbox.requests) == expected)
    finally:
        await close_client(client)
    per_event = Counter(r.payload["event_id"] for r in inbox.requests)
    assert set(per_event.values()) <= {1, 2, 3}
    assert max(per_event.values()) > 1
    for event in duplicated:
        assert per_event[event.detail["event_id"]] == event.detail["copies"]
        assert len(set(event.detail["envelope_ids"])) == event.detail["copies"]
    copies = slack.deliveries(type="events_api")
    assert all(r.retry_attempt == 0 for r in inbox.requests)
    assert {d.duplicate_of for d in copies if d.duplicate_of} == {
        e.detail["envelope_ids"][0] for e in duplicated
    }
    # Turned off, events go out once again.
    slack.stop_duplicate_events()
    before = len(slack.deliveries(type="events_api"))
    await slack.post_message(channel=OPS, user="U0BOB", text="once")
    assert len(slack.deliveries(type="events_api")) == before + 1


async def test_dropped_sockets_still_deliver_every_event(slack: LocalSlack) -> None:
    inbox = Inbox()
    client = await connect_socket_client(slack, inbox, ping_interval=0.2)
    try:
        slack.drop_sockets_randomly(seed=3, probability=0.5)
        for i in range(6):
            await slack.post_message(channel=OPS, user="U0BOB", text=f"m{i}")
        events = {d.event_id for d in slack.deliveries(type="events_api")}
        for event_id in events:

            def acked(d: Delivery, wanted: str | None = event_id) -> bool:
                return d.event_id == wanted and d.acked

            await slack.wait_for_delivery(acked, timeout=10)
        slack.stop_dropping_sockets()
    finally:
        await close_client(client)
    drops = slack.chaos_events(kind="drop")
    assert drops, "seed 3 at p=0.5 drops at least once in six envelopes"
    assert {d.detail["trigger"] for d in drops} <= {"before_send", "after_send"}
    assert len(slack.calls("apps.connections.open")) > 1  # the client came back


async def test_sockets_drop_at_random_moments(slack: LocalSlack) -> None:
    inbox = Inbox()
    client = await connect_socket_client(slack, inbox, ping_interval=0.2)
    try:
        slack.drop_sockets_randomly(seed=9, interval=(0.05, 0.1))
        await slack.wait_for_connections(3, timeout=10)
        slack.stop_dropping_sockets()
    finally:
        await close_client(client)
    timer_drops = [e for e in slack.chaos_events(kind="drop") if e.detail["trigger"] == "timer"]
    assert len(timer_drops) >= 2
    assert all(e.detail["envelope_id"] is None for e in timer_drops)
