"""A Home asked for now is not queued behind everyone else's.

With the default policy anyone may decide a request, so every change to one publishes the
Home of everyone who opened theirs: with hundreds of them, minutes of Slack's rate limit
for views.publish (Tier 4). A person who opens their Home (or clicks in it) meanwhile is
published next, not after the whole crowd.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
from conftest import FAST
from signoff_e2e_kit import as_in_manifest, home_texts, mention, until, wait_card

from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig
from localslack.config import UserSpec
from sessions import FixedClock, Home, HomeViewers

if TYPE_CHECKING:
    from conftest import BotFactory

CROWD = [f"U1P{n:04d}" for n in range(300)]


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    base = WorkspaceConfig(seed=11, timing=FAST)
    crowd = tuple(UserSpec(id=user, name=f"p{user[3:]}") for user in CROWD)
    config = dataclasses.replace(as_in_manifest(base), users=(*base.users, *crowd))
    async with LocalSlack(config) as server:
        yield server


def published(slack: LocalSlack) -> list[str]:
    return [str(call.args.get("user_id")) for call in slack.calls("views.publish")]


async def test_a_home_opened_during_a_fan_out_is_published_next(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, e2e_clock: FixedClock
) -> None:
    home = Home(settings.home)
    home.ensure()
    viewers = HomeViewers(home, clock=e2e_clock)  # they opened theirs before a restart
    for user in CROWD:
        viewers.add(user)
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    await wait_card(slack, await mention(slack, "restart api"))
    await until(lambda: len(published(slack)) >= 20, what="the crowd's Homes to be published")
    before = len(published(slack))
    await slack.open_app_home(user="U0BOB")
    await slack.wait_for_home_view(
        lambda view: "Waiting for you (1)" in home_texts(view), user="U0BOB", timeout=30
    )
    calls = published(slack)
    # Only the few published while his opening was on its way went first, not the ~280
    # left of the crowd (he came 276th); a loaded machine lets a handful through.
    waited = calls.index("U0BOB") - before
    assert waited <= 50, f"{waited} Homes were published before the one Bob opened"
    # And the crowd's are all published still.
    await until(lambda: set(CROWD) <= set(published(slack)), what="every Home", timeout=60)
