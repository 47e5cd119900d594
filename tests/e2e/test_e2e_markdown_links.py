"""A model's markdown links never become links signoff did not intend.

A streamed reply is ``markdown_text`` (chat.startStream / appendStream / stopStream), which
Slack reads as standard markdown: there ``[Approve here](https://evil.example)`` is a link
whose label hides where it goes, the markdown twin of mrkdwn's ``<https://…|label>`` that
escaping turns inert. A link needs its ``]`` right before ``(`` (inline), ``[`` (a
reference) or ``:`` (a definition, without which no ``[label]`` alone is a link), and
a link goes somewhere only when that ``(`` or definition's ``:`` leads to a target: so no
text sent as markdown may hold such a pair, while people still read every character the
model wrote, and code (``handlers[name](event)``) is not touched. End to end through LocalSlack, the real Bolt app and the fake
Anthropic API streaming through the SDK.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from signoff_e2e_kit import bot_messages
from test_e2e_long_replies import answered

from localslack import LocalSlack

ANSWER = (
    "The deploy is ready. [Approve the deploy here](https://evil.example/approve) or see "
    "![status](https://evil.example/s.png) and [the runbook][rb] or [docs][] or [docs].\n\n"
    "[rb]: https://evil.example/runbook\n[docs]: https://evil.example/docs\n"
    "[out]( //evil.example/x) [mail](mailto:ops@evil.example) [odd](&lt;https://evil.example&gt;)\n"
    "Code keeps its brackets: `a[0] + b[1]`, handlers[name](event) and a list [1, 2, 3] (done)."
)
# A ``]`` that makes a link to somewhere: ``](`` or ``]:`` before a target.
LINK = re.compile(r"\][(:]\s*(?:[a-z]+:|//|&)")
CODE = "handlers[name](event)"
STREAMS = ("chat.startStream", "chat.appendStream", "chat.stopStream")


async def test_a_streamed_reply_s_markdown_links_are_shown_not_linked(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = await answered(slack, start_bot, monkeypatch, ANSWER, streamed=True)
    sent = [str(c.args.get("markdown_text") or "") for c in slack.calls() if c.method in STREAMS]
    assert any(sent), "the reply was not streamed"
    for text in sent:
        assert LINK.search(text) is None, text
    [reply] = bot_messages(slack, thread)
    shown = str(reply["text"])
    assert LINK.search(shown) is None, shown
    # Nothing of it is lost: only what people cannot see stands between the pairs.
    assert html.unescape(shown).replace("\u200b", "") == ANSWER
    assert CODE in shown and all(CODE in text for text in sent if "handlers" in text)
