"""A long model reply for an app installed without ``files:write``: the answer too long
for a few messages is posted whole, split into messages, streamed or not. Its start (in
the stream's message, when it streamed) said "the full answer is attached" and was
retried for ever, the upload refused with ``missing_scope`` each time, holding the
thread's later replies; now the start becomes the answer's first part.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import FAST
from signoff_e2e_kit import bot_messages
from test_e2e_long_replies import answered, long_answer

from bot.reply_parts import split_message
from localslack import LocalSlack, WorkspaceConfig
from localslack.config import DEFAULT_SCOPES


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    scopes = tuple(s for s in DEFAULT_SCOPES if s != "files:write")
    async with LocalSlack(WorkspaceConfig(seed=7, timing=FAST, scopes=scopes)) as server:
        yield server


@pytest.mark.parametrize("streamed", [False, True], ids=["posted", "streamed"])
async def test_a_long_reply_is_split_whole_when_the_app_may_not_upload(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    answer = long_answer(30_000)
    parts = split_message(answer)
    thread = await answered(
        slack, start_bot, monkeypatch, answer, streamed=streamed, messages=len(parts)
    )
    writes = [c for c in slack.calls() if c.method.startswith(("chat.", "files."))]
    assert streamed == any(c.method == "chat.startStream" for c in writes)
    assert [(c.method, c.error) for c in writes if not c.ok] == [
        ("files.getUploadURLExternal", "missing_scope")
    ]
    assert [str(m.get("text")) for m in bot_messages(slack, thread)] == parts
    assert slack.files() == []
