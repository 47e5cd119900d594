"""A streamed reply to a Slack Connect guest names the guest's own team.

chat.startStream's reference: ``recipient_team_id`` is "the team the user receiving the
streaming text belongs to". For a person from another organization in a shared channel
that is their own (``user_team`` on their message), not the channel host's; localslack
refuses the host's for them, as the stream would not be theirs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from live_kit import FakeAnthropic, agent_workspace, anthropic_api, anthropic_bot
from signoff_e2e_kit import OPS, bot_messages, mention, session_dirs, with_guest_in_ops

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack
from localslack.config import UserSpec

__all__ = ["anthropic_api"]

GUEST = UserSpec(id="U0GUEST", name="gina", team_id="T0PARTNER")
ANSWER = (
    "All four services are **healthy**: api, web, worker and db answer within 120 ms, "
    "and nothing was restarted in the last day."
)


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    """An agent workspace whose #ops is shared with a guest from another organization."""
    base = agent_workspace()
    async with LocalSlack(with_guest_in_ops(base, GUEST)) as server:
        yield server


@pytest.fixture
def start(
    monkeypatch: pytest.MonkeyPatch, anthropic_api: FakeAnthropic, start_bot: Callable[..., Any]
) -> Callable[..., Awaitable[SignoffBot]]:
    return anthropic_bot(monkeypatch, anthropic_api, start_bot)


def inbox_records(home: Path, thread: str) -> list[dict[str, Any]]:
    """The thread's messages as the inbox stored them: a message taken into a session
    leaves the inbox (one line in its ``taken.jsonl``), its record kept in the trace."""
    out = []
    for trace in (d / "trace.jsonl" for d in session_dirs(home)):
        for line in trace.read_bytes().splitlines():
            event = json.loads(line)
            data = event.get("data") or {}
            if event.get("kind") == "message" and data["thread"]["thread_ts"] == thread:
                out.append(data)
    return out


async def test_a_guest_is_streamed_to_under_their_own_team(
    slack: LocalSlack,
    start: Callable[..., Awaitable[SignoffBot]],
    anthropic_api: FakeAnthropic,
    settings: Settings,
) -> None:
    anthropic_api.reply(ANSWER, chunk_delay=0.03)
    bot = await start()
    thread = await mention(slack, "how is everything?", user=GUEST.id)
    stream = await slack.wait_for_stream(channel=OPS, thread_ts=thread, state="stopped")
    await bot.engine.idle()
    assert (stream["recipient_user_id"], stream["recipient_team_id"]) == (GUEST.id, "T0PARTNER")
    [reply] = bot_messages(slack, thread)
    assert reply["ts"] == stream["ts"] and reply["text"] == ANSWER
    # The thread is still the host's; the guest's team is kept with their message.
    (stored,) = inbox_records(settings.home, thread)
    assert stored["thread"]["team"] == "T0LOCAL" and stored["user_team"] == "T0PARTNER"

    # The host's own people are still addressed under the host's team.
    anthropic_api.reply(ANSWER, chunk_delay=0.03)
    again = await mention(slack, "and now?")
    ours = await slack.wait_for_stream(channel=OPS, thread_ts=again, state="stopped")
    assert (ours["recipient_user_id"], ours["recipient_team_id"]) == ("U0ALICE", "T0LOCAL")
