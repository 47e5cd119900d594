"""The requester's message as the approver reads it, on the card and on the Home tab.

Only the mention that addressed signoff is dropped from the quote: "@signoff @bob restart
api" shows who else was addressed, as plain characters that ping nobody.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from conftest import FAST
from signoff_e2e_kit import BOT_USER, OPS, as_in_manifest, home_texts, wait_card

from bot.app import SignoffBot
from localslack import LocalSlack, WorkspaceConfig


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=11, timing=FAST))) as server:
        yield server


async def _asked(slack: LocalSlack, text: str) -> str:
    """The card's "who asked" section for Alice's message ``text``."""
    thread = await slack.post_message(channel=OPS, user="U0ALICE", text=text)
    card = await wait_card(slack, thread)
    return next(
        str(b["text"]["text"])
        for b in card["blocks"]
        if str(b.get("block_id", "")).startswith("asked-")
    )


async def test_a_quote_keeps_the_other_people_the_request_addressed(
    slack: LocalSlack, bot: SignoffBot
) -> None:
    asked = await _asked(slack, f"<@{BOT_USER}> <@U0BOB|bob>, <@U0DAVE> restart api")
    assert asked.endswith("\n>@bob, @U0DAVE restart api"), asked
    assert "<@U0BOB" not in asked and "<@U0DAVE" not in asked  # shown, never pinged again
    assert BOT_USER not in asked
    await slack.open_app_home(user="U0BOB")
    view = await slack.wait_for_home_view(
        lambda v: "restart api" in home_texts(v), user="U0BOB", timeout=10
    )
    assert ">@bob, @U0DAVE restart api" in home_texts(view)
    assert BOT_USER not in home_texts(view)


async def test_a_quote_of_a_message_that_mentions_signoff_later_keeps_it(
    slack: LocalSlack, bot: SignoffBot
) -> None:
    asked = await _asked(slack, f"<@{BOT_USER}> restart api, as <@{BOT_USER}> said")
    assert asked.endswith(f">restart api, as @{BOT_USER} said"), asked
