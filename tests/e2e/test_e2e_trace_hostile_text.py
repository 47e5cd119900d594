"""``/signoff trace`` shows what people and the model wrote, and pings nobody with it.

Hostile-input issue, item 2: ``/signoff trace`` rendered ``<U0ERIN>`` and a raw
``<!channel>`` inside its code block. Through LocalSlack and the real Bolt app, with a
person's messages (typed broadcasts stay live markup in Slack's text) and a model's
replies (a FakeAnthropic) full of broadcasts and foreign mentions: the inline answer
shows them escaped, never live; so do the answer and the message that share a long
trace's upload. The uploaded file itself is plain text (Slack does not parse a file's
content for mentions), and holds what was said as written.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from signoff_e2e_kit import OPS, bot_reply, mention, until

from localslack import LocalSlack

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "providers"))
from fake_anthropic import FakeAnthropic

if TYPE_CHECKING:
    from conftest import BotFactory

MARKUP = "<!channel> <!here> <!subteam^S0X|@oncall> <@U0OTHER>"
LIVE = ("<!channel>", "<!here>", "<!subteam^", "<@U0OTHER>")
SHOWN = ("&lt;!channel&gt;", "&lt;!here&gt;", "&lt;!subteam^S0X|@oncall&gt;", "&lt;@U0OTHER&gt;")


@pytest.fixture
async def model(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic(api_key="sk-ant-test-key") as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
        yield api


async def _turns(slack: LocalSlack, api: FakeAnthropic, turns: int, pad: int) -> str:
    """``turns`` exchanges in one thread, each side's text carrying ``MARKUP`` ``pad``
    times; the thread's ts."""
    thread = ""
    for n in range(turns):
        api.reply(f"model-said-{n} " + " ".join([MARKUP] * pad))
        asked = f"person-said-{n} " + " ".join([MARKUP] * pad)
        if not thread:
            thread = await mention(slack, asked)
        else:
            await slack.post_message(channel=OPS, user="U0ALICE", text=asked, thread_ts=thread)
        # A bound, not a pace: the first call imports the SDK, slow on a loaded machine.
        await bot_reply(slack, thread, f"model-said-{n}", timeout=30)
    return thread


async def _traced(
    slack: LocalSlack, start_bot: BotFactory, api: FakeAnthropic, user: str, turns: int, pad: int
) -> dict[str, Any]:
    """A bot on the fake model, ``_turns`` with it, then ``/signoff trace`` by ``user``:
    the one answer."""
    bot = await start_bot(model="anthropic:claude-test")
    await slack.wait_for_sockets(1, timeout=5)
    await _turns(slack, api, turns, pad)
    await bot.engine.idle()
    await slack.slash_command(command="/signoff", user=user, channel=OPS, text="trace")
    answers = await until(lambda: slack.ephemeral_messages(user=user), what="the answer")
    assert len(answers) == 1, answers
    return dict(answers[0])


def _inert(sent: str, *, shown: int) -> None:
    """Nothing in ``sent`` is live markup; each piece is shown, escaped, ``shown`` times."""
    for live in LIVE:
        assert live not in sent, live
    for escaped in SHOWN:
        assert sent.count(escaped) >= shown, (escaped, sent[:2000])


async def test_an_inline_trace_shows_broadcasts_and_mentions_inert(
    slack: LocalSlack, start_bot: BotFactory, model: FakeAnthropic
) -> None:
    answer = await _traced(slack, start_bot, model, "U0CAROL", turns=1, pad=1)
    text = str(answer["text"])
    assert text.startswith("```") and "person-said-0" in text and "model-said-0" in text
    _inert(str(answer), shown=2)  # the person's message and the model's reply
    assert slack.files() == []


async def test_an_uploaded_trace_shows_broadcasts_and_mentions_inert(
    slack: LocalSlack, start_bot: BotFactory, model: FakeAnthropic
) -> None:
    answer = await _traced(slack, start_bot, model, "U0ALICE", turns=4, pad=4)
    assert "uploaded as a file" in str(answer["text"])
    _inert(str(answer), shown=0)
    shared = await slack.wait_for_message(
        channel=OPS, predicate=lambda m: bool(m.get("files")), timeout=10
    )
    # The message that shares it mentions only who asked, an id signoff holds.
    assert shared["text"] == "Trace requested by <@U0ALICE>"
    [upload] = slack.files()
    _inert(str(upload), shown=0)  # its title and name
    # The file is plain text, which Slack shows as it is and parses for nothing (as the
    # attachment of a long reply): what was said, as written, not &lt;-escaped markup.
    content = slack.file_content(upload["id"]).decode()
    for n in range(4):
        assert f"person-said-{n} {MARKUP}" in content and f"model-said-{n} {MARKUP}" in content
    assert "&lt;" not in content
