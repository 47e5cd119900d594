"""Escaped text is cut only where Slack reads both sides whole.

Escaping lengthens text (``&`` is ``&amp;``), and signoff cuts what it renders: a reply
into messages of 3,500 characters, the start of an attached answer at 1,000, a card's JSON
at what a section holds. A cut inside ``&amp;`` shows "&am" and "p;" to people; a cut
inside a code block leaves its fence open, and what follows reads as formatting. End to
end through LocalSlack and the real Bolt app.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from signoff_e2e_kit import bot_messages, mention, wait_card
from test_e2e_long_replies import answered

from localslack import LocalSlack

# An & that does not start one of the entities signoff writes, or a < that no > closes.
_BROKEN = re.compile(r"&(?!amp;|lt;|gt;)|<[^>]*$")


def _whole(text: str) -> None:
    assert _BROKEN.search(text) is None, text[-80:]
    assert text.count("```") % 2 == 0, "a code fence left open"


async def _answered(
    slack: LocalSlack,
    start_bot: Any,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    *,
    streamed: bool = False,
) -> list[dict[str, Any]]:
    """The bot's messages in a thread where the model answered ``answer``."""
    thread = await answered(slack, start_bot, monkeypatch, answer, streamed=streamed)
    return bot_messages(slack, thread)


async def test_a_reply_cut_on_one_long_line_never_cuts_an_entity(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One line of 3,000 characters, 9,000 escaped: cut where no line ends, in three.
    answer = "Here:\n" + "a&" * 1500
    messages = await _answered(slack, start_bot, monkeypatch, answer)
    texts = [str(m["text"]) for m in messages]
    assert len(texts) == 3
    for text in texts:
        _whole(text)
    assert html.unescape("".join(texts)) == answer  # nothing lost at the cuts


async def test_a_streamed_reply_is_cut_where_its_first_message_is(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 4,000 characters on one line, 8,000 escaped: the stream shows the first message only.
    answer = "Answer:\n" + "a&b " * 1000  # the 3,500th character is in an &amp;
    messages = await _answered(slack, start_bot, monkeypatch, answer, streamed=True)
    streams = ("chat.startStream", "chat.appendStream", "chat.stopStream")
    shown = "".join(
        str(c.args.get("markdown_text") or "") for c in slack.calls() if c.method in streams
    )
    assert shown and len(messages) == 3
    _whole(shown)
    # What it streamed is the start of the first message: finished as it is, not redone.
    assert str(messages[0]["text"]).startswith(shown)
    assert slack.calls("chat.update") == []


@pytest.mark.parametrize(
    "answer",
    ["a&" * 4000, "```\n" + "echo a\n" * 3000 + "```"],
    ids=["entities", "code"],
)
async def test_the_start_of_an_attached_answer_is_cut_whole(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    messages = await _answered(slack, start_bot, monkeypatch, answer)
    assert any(m.get("files") for m in messages)
    (start,) = [m for m in messages if "(the full answer is attached)" in str(m["text"])]
    _whole(str(start["text"]))


async def test_a_cards_json_full_of_markup_keeps_its_code_block_closed(
    slack: LocalSlack, bot: Any
) -> None:
    # 1,200 characters, 5,200 once escaped: more than a section holds (3,000).
    service = "<&>" * 400
    thread = await mention(slack, "call restart_service " + json.dumps({"service": service}))
    card = await wait_card(slack, thread)
    (block,) = [b for b in card["blocks"] if str(b.get("block_id", "")).startswith("json-")]
    text = str(block["text"]["text"])
    assert text.startswith("```") and text.endswith("```")
    _whole(text)
    assert "full call in the trace" in text


async def test_a_reply_cut_in_a_long_run_of_backticks_never_cuts_an_entity(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No newline, and backticks up to the 3,500th character, where an &amp; begins: no
    # cut keeps the run whole, and the one made must still not split the entity.
    answer = "`" * 3497 + "& and the rest"
    messages = await _answered(slack, start_bot, monkeypatch, answer)
    texts = [str(m["text"]) for m in messages]
    assert len(texts) == 2
    for text in texts:
        assert _BROKEN.search(text) is None, text[-40:]
    assert "&amp; and the rest" in texts[1]  # the entity whole, in the second
