"""Who can see a channel, cached for a minute: the cache holds that minute, not every
channel ever looked at, against LocalSlack through slack_sdk.

``ChannelMembers`` (the Home tab's, ``/signoff``'s) kept each channel's member list and
kind for as long as the bot ran: every channel a card was ever in, a list as long as the
channel (thousands of people in a big one), read again only if asked again and never
let go. Past the minute an entry only takes memory: the next look asks Slack anyway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.membership import ChannelMembers
from localslack import ChannelSpec, LocalSlack, WorkspaceConfig

CHANNELS = 300
TTL = 60.0
PEOPLE = ("U0ALICE", "U0BOB", "U0CAROL", "U0DAVE")


def _channel(n: int) -> str:
    return f"C0P{n:05d}"


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    channels = tuple(
        ChannelSpec(
            id=_channel(n),
            name=f"team-{n}",
            members=(PEOPLE[n % 4], "U0SIGNOFF"),
            is_private=True,
        )
        for n in range(CHANNELS)
    )
    async with LocalSlack(WorkspaceConfig(channels=channels)) as server:
        yield server


class Minutes:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_channels_looked_at_long_ago_are_let_go(slack: LocalSlack) -> None:
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    clock = Minutes()
    members = ChannelMembers(web, ttl=TTL, now=clock)
    # A channel a minute, for 300 minutes (a Home or /signoff pending each time).
    for n in range(CHANNELS):
        assert await members.can_see(_channel(n), PEOPLE[n % 4])
        clock.now += TTL
    held = len(members._cache) + len(members._public)
    assert held <= 4, f"{held} entries kept for {CHANNELS} channels looked at once each"


async def test_within_the_minute_an_answer_is_not_asked_again(slack: LocalSlack) -> None:
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    clock = Minutes()
    members = ChannelMembers(web, ttl=TTL, now=clock)
    for n in range(20):
        assert await members.can_see(_channel(n), PEOPLE[n % 4])
    clock.now += TTL - 1
    for n in range(20):
        assert await members.can_see(_channel(n), PEOPLE[n % 4])
        assert not await members.can_see(_channel(n), PEOPLE[(n + 1) % 4])
    assert len(slack.calls("conversations.info")) == 20
    assert len(slack.calls("conversations.members")) == 20
    clock.now += 1  # the minute is up: Slack is asked again
    assert await members.can_see(_channel(0), PEOPLE[0])
    assert len(slack.calls("conversations.members")) == 21


async def test_a_decision_asks_afresh_who_is_in_a_channel_not_whether_it_is_public() -> None:
    """A click asks Slack afresh who is in a private channel (someone who left since decides
    nothing); whether a channel is public comes from the minute's cache, so the clicks of a
    busy public channel cost no Slack call each, nor a share of conversations.info's limit."""
    public = ChannelSpec(id="C0OPEN", name="open", members=("U0SIGNOFF",))
    closed = ChannelSpec(id="C0SHUT", name="shut", members=("U0BOB", "U0SIGNOFF"), is_private=True)
    async with LocalSlack(WorkspaceConfig(channels=(public, closed))) as slack:
        members = ChannelMembers(AsyncWebClient(token=slack.bot_token, base_url=slack.api_url))
        for _ in range(5):
            assert await members.can_see("C0OPEN", "U0CAROL", fresh=True)
            assert await members.can_see("C0SHUT", "U0BOB", fresh=True)
        assert len(slack.calls("conversations.info")) == 2
        assert len(slack.calls("conversations.members")) == 5
