"""A person's message with no text (Slack sends ``text: ""`` for files shared without a
comment, as a ``file_share``) is still a message the model is asked about: it reaches the
model as a user turn saying what was shared, through the real Socket Mode path, Bolt app
and the Anthropic SDK against the fake Messages API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from conftest import FAST
from live_kit import FakeAnthropic, anthropic_api, anthropic_bot
from signoff_e2e_kit import OPS, as_in_manifest, bot_reply, mention

from bot.app import SignoffBot
from localslack import LocalSlack, WorkspaceConfig

__all__ = ["anthropic_api"]

DM = "D0ALICE"
ANSWER = "I cannot open files here; paste the error as text and I will look at it."
Start = Callable[..., Awaitable[SignoffBot]]


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    # As manifest.yml declares the app: direct messages included.
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=17, timing=FAST))) as server:
        yield server


@pytest.fixture
def start(
    monkeypatch: pytest.MonkeyPatch, anthropic_api: FakeAnthropic, start_bot: Callable[..., Any]
) -> Start:
    return anthropic_bot(monkeypatch, anthropic_api, start_bot)


def last_turn(api: FakeAnthropic) -> tuple[list[str], str]:
    """The roles of the latest request's messages, and its last message's content as JSON."""
    messages = api.requests[-1].body["messages"]
    return [m["role"] for m in messages], json.dumps(messages[-1]["content"])


async def test_a_file_shared_alone_in_a_direct_message_is_asked_about(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    """Alice drops a screenshot into her direct message with signoff, no comment. That
    started a conversation with nothing to send: the API refused the request (no messages)
    and she was told the model could not be reached."""
    anthropic_api.reply(ANSWER)
    await start()
    ts = await slack.post_message(channel=DM, user="U0ALICE", text="", files=["error.png"])
    await slack.wait_for_message(
        channel=DM, thread_ts=ts, from_bot=True, text_contains=ANSWER, timeout=5
    )
    roles, said = last_turn(anthropic_api)
    assert roles == ["user"]
    assert "error.png" in said


async def test_a_file_shared_alone_in_a_thread_is_answered_not_the_last_answer_continued(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    """A reply that is only a file, in a thread signoff answers in. The request ended
    with signoff's own last answer (her message was dropped as empty), so the model was
    asked to go on with what it had said: signoff answered itself."""
    anthropic_api.reply("Which service is off?")
    anthropic_api.reply(ANSWER)
    bot = await start()
    thread = await mention(slack, "something is off")
    await bot_reply(slack, thread, "Which service is off?")
    await bot.engine.idle()
    await slack.post_message(
        channel=OPS, user="U0ALICE", text="", files=["error.png"], thread_ts=thread
    )
    await bot_reply(slack, thread, ANSWER, timeout=5)
    roles, said = last_turn(anthropic_api)
    assert roles == ["user", "assistant", "user"]
    assert "error.png" in said


@pytest.mark.parametrize("comment", ["", "what does this mean?"])
async def test_a_message_forwarded_to_signoff_is_asked_about_with_what_it_quotes(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic, comment: str
) -> None:
    """Alice forwards Carol's alert from #ops to her direct message with signoff (the
    client's "Forward message"), with or without a comment. Slack sends the forward as a
    message whose text is only the comment and an attachment quoting the alert
    (``is_msg_unfurl``, ``from_url``): signoff stored the comment alone, or "(a message
    with no text)", and the model was asked about nothing it could see."""
    anthropic_api.reply(ANSWER)
    await start()
    alert = await slack.post_message(
        channel=OPS, user="U0CAROL", text="disk 97% full on db-2 & rising"
    )
    ts = await slack.post_message(channel=DM, user="U0ALICE", text=comment, forward=(OPS, alert))
    await slack.wait_for_message(
        channel=DM, thread_ts=ts, from_bot=True, text_contains=ANSWER, timeout=5
    )
    roles, said = last_turn(anthropic_api)
    assert roles == ["user"]
    assert "disk 97% full on db-2 & rising" in json.loads(said)[0]["text"], said
    assert comment in said
    assert "no text" not in said


async def test_a_forward_that_mentions_signoff_in_a_channel_is_asked_with_what_it_quotes(
    slack: LocalSlack, start: Start, anthropic_api: FakeAnthropic
) -> None:
    """The same forward into #ops with a comment mentioning signoff: both its ``message``
    and its ``app_mention`` carry the quote, whichever Slack delivers first is the one kept."""
    anthropic_api.reply(ANSWER)
    await start()
    alert = await slack.post_message(channel=OPS, user="U0CAROL", text="db-2 replica lag 40s")
    ts = await slack.post_message(
        channel=OPS, user="U0ALICE", text="<@U0SIGNOFF> is this bad?", forward=(OPS, alert)
    )
    await bot_reply(slack, ts, ANSWER, timeout=5)
    _, said = last_turn(anthropic_api)
    assert "db-2 replica lag 40s" in said and "is this bad?" in said, said
