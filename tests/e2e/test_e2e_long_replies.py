"""A model reply longer than Slack takes in one message (40,000 characters of text, and
signoff's own 3,500 a message so a thread stays readable) is split into a few messages, or
past that posted as a start with the whole answer attached as a file; streamed or not,
nothing of it is refused by Slack or lost.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from signoff_e2e_kit import bot_messages, mention, thread_path, until

from bot.config import Settings
from localslack import LocalSlack

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "providers"))
from fake_anthropic import FakeAnthropic

# Long words: the fake streams a word at a time, and a stream of 12,000 short ones is slow.
PARAGRAPH = " ".join(["abcdefghij" * 5] * 6)


def long_answer(chars: int) -> str:
    return "Start.\n\n" + "\n\n".join(f"p{i}: {PARAGRAPH}" for i in range(chars // 300))


async def answered(
    slack: LocalSlack,
    start_bot: Any,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    *,
    streamed: bool,
    messages: int = 1,
) -> str:
    """A bot whose model answers ``answer``, asked in a new thread; that thread, once it
    shows ``messages`` of the bot's and the bot is idle."""
    async with FakeAnthropic(api_key="sk-ant-test-key") as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
        # Spread over a second, the answer streams long enough for the live view to start
        # a Slack stream (its first batch is due after 0.3 s).
        api.reply(answer, chunk_delay=1.0 / len(answer.split()) if streamed else 0.0)
        bot = await start_bot(model="anthropic:claude-test")
        await slack.wait_for_sockets(1, timeout=5)
        thread = await mention(slack, "say something long")
        await until(lambda: len(bot_messages(slack, thread, "")) >= messages, timeout=20)
        await bot.engine.idle()
    return thread


@pytest.mark.parametrize("streamed", [False, True], ids=["posted", "streamed"])
@pytest.mark.parametrize("chars", [9_000, 60_000])
async def test_a_long_reply_is_split_or_attached_and_nothing_is_refused(
    slack: LocalSlack,
    start_bot: Any,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    chars: int,
    streamed: bool,
) -> None:
    answer = long_answer(chars)
    thread = await answered(slack, start_bot, monkeypatch, answer, streamed=streamed)
    writes = [c for c in slack.calls() if c.method.startswith(("chat.", "files."))]
    assert [(c.method, c.error) for c in writes if not c.ok] == []
    assert streamed == any(c.method == "chat.startStream" for c in writes)
    messages = bot_messages(slack, thread)
    shown = "\n\n".join(str(m.get("text", "")) for m in messages)
    files = [f for m in messages for f in m.get("files") or []]
    if chars < 14_000:  # a few messages, every paragraph in one of them
        assert not files and 1 < len(messages) <= 4
        assert all(len(str(m["text"])) <= 3_600 for m in messages)
        assert all(f"p{i}: {PARAGRAPH}" in shown for i in range(chars // 300))
    else:  # the start in the thread, the whole answer attached
        assert len(files) == 1 and "(the full answer is attached)" in shown
        assert slack.file_content(files[0]["id"]) == answer.encode()
    log = thread_path(settings.home, thread) / "outbox.jsonl"
    done = [json.loads(line) for line in log.read_text().splitlines()]
    assert [d["outcome"] for d in done if d["id"].startswith("reply-")] == ["sent"]
