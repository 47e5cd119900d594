"""Every text Slack parses, on every outgoing call, renders people's and models' words inert.

One conversation carries hostile text on each path at once, end to end through LocalSlack
and the real Bolt app: the request, the model's replies (one with a lone surrogate), a
gated call's argument, the edit modal and an edit with its reason, the run's failure
echoing that argument, ``/signoff`` answers (one to unknown words) and the Home tabs.
Then every call the bot made is read: wherever Slack parses markup (a message's ``text``,
a ``mrkdwn`` object, a stream's ``markdown_text``, a file's comment, a task step), no
broadcast, group, channel or link markup and no mention of someone signoff does not hold
is live; nothing anywhere carries a lone surrogate; nothing is escaped twice.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST
from signoff_e2e_kit import OPS, as_in_manifest, bot_reply, home_of, mention, until, wait_card

from bot.card_governance import EDIT
from bot.edit_modal import EDIT_MODAL
from localslack import LocalSlack, WorkspaceConfig

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "providers"))
from fake_anthropic import FakeAnthropic, ToolUse

# Nothing here starts with "&lt;" etc.: any "&amp;lt;" on the wire is an escape done twice.
HOSTILE = (
    "<!here> <!channel> <!everyone> <!subteam^S0ONCALL> <@U0DAVE> <#C0EVIL|evil> "
    "<https://evil.example|click> <!date^1700000000^{date}|x> & lone < > \u200b"
)
# As an argument, without what draws nothing: a value holding a zero-width space is not
# prefilled in the edit modal (test_e2e_edit_hidden_characters), whose markup is tested here.
ARGUMENT = HOSTILE.replace("\u200b", "")
# Signoff's own dates are live (``slack_date``); the one HOSTILE carries must not be.
LIVE = (
    "<!here",
    "<!channel",
    "<!everyone",
    "<!subteam",
    "<@U0DAVE",
    "<#C0EVIL",
    "<https://evil",
    "<!date^1700000000",
)
# Keys whose strings Slack parses as markup (a ``mrkdwn`` object's is its "text").
_PARSED = ("text", "markdown_text", "initial_comment", "title", "details")


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=7, timing=FAST))) as server:
        yield server


def _strings(value: Any, *, parsed: bool = False) -> Iterator[tuple[str, bool]]:
    """Every string in ``value``, and whether Slack parses it as markup."""
    if isinstance(value, dict):
        plain = value.get("type") == "plain_text"
        for key, item in value.items():
            yield from _strings(item, parsed=key in _PARSED and not plain)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, parsed=parsed)
    elif isinstance(value, str):
        if value[:1] in "[{":  # blocks and chunks may come as JSON in a form field
            try:
                yield from _strings(json.loads(value), parsed=parsed)
                return
            except ValueError:
                pass
        yield value, parsed


async def test_no_outgoing_call_carries_live_markup_from_people_or_models(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeAnthropic(api_key="sk-ant-test-key") as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
        api.reply(f"Sure {HOSTILE}", ToolUse(name="restart_service", input={"service": ARGUMENT}))
        api.reply(f"Done {HOSTILE} \ud800 <@U0ALICE>")
        bot = await start_bot(model="anthropic:claude-test")
        await slack.wait_for_sockets(1, timeout=5)
        thread = await mention(slack, f"restart {HOSTILE}")
        card = await wait_card(slack, thread, timeout=30)
        await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=EDIT)
        await until(lambda: slack.open_views(user="U0BOB"), what="the edit modal")
        edited: dict[str, object] = {"value": f"x {HOSTILE}"}
        reason: dict[str, object] = {"reason": HOSTILE + "&" * 900}
        await slack.submit_view(
            user="U0BOB", callback_id=EDIT_MODAL, values={"arg:service": edited, "reason": reason}
        )
        await bot_reply(slack, thread, "Done", timeout=30)
        await bot.engine.idle()
        for words in ("trace", "sessions", "pending", HOSTILE):
            await slack.slash_command(command="/signoff", user="U0BOB", channel=OPS, text=words)
        await until(lambda: len(slack.ephemeral_messages(user="U0BOB")) >= 4, what="answers")
        for user in ("U0ALICE", "U0BOB"):
            await slack.open_app_home(user=user)
            await home_of(slack, user, has="restart_service")
    # Not an agent session's title: the request's start with its mentions taken out
    # (``model_call.live_turn``), which Slack's reference does not say it parses.
    sent = [(c.method, c.args) for c in slack.calls() if c.method != "agents.sessions.setStatus"]
    sent += [("response_url", m) for m in slack.ephemeral_messages(user="U0BOB")]
    assert any(method == "views.open" for method, _ in sent)
    assert any(method == "views.publish" for method, _ in sent)
    shown = [(method, text, parsed) for method, args in sent for text, parsed in _strings(args)]
    for method, text, parsed in shown:
        live = [markup for markup in LIVE if markup in text] if parsed else []
        assert not live, (method, live, text[:300])
        assert "&amp;lt;" not in text and "&amp;gt;" not in text, (method, text[:300])
        text.encode("utf-8")  # no lone surrogate
    replies = [text for method, text, parsed in shown if method == "chat.postMessage" and parsed]
    assert any("<@U0ALICE>" in text and "\ufffd" in text for text in replies)  # held, kept
