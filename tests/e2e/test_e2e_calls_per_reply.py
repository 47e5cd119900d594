"""One model reply that asks for more tool calls than signoff takes in a reply, through
the real Bolt app, LocalSlack and the real Anthropic adapter against the fake Messages API.

A model (or one a message talked into it) that asked for 60 gated calls at once got 60
approval cards in the thread. Now the calls after the first ``SIGNOFF_MAX_CALLS_PER_REPLY``
never run and post no card: the model is told, in each one's result, that it was not run
and why, and goes on with the calls that were taken.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from live_kit import FakeAnthropic, ToolUse, anthropic_api, anthropic_bot, final_replies, slack
from signoff_e2e_kit import approval_id_of, cards, mention, restarts, until, wait_card

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack

__all__ = ["anthropic_api", "slack"]

CAP = 2


def _tool_results(request_body: Any) -> dict[str, dict[str, Any]]:
    """The tool_result blocks of a Messages API request, by the tool_use id they answer."""
    found: dict[str, dict[str, Any]] = {}
    for message in request_body["messages"]:
        if message["role"] != "user" or isinstance(message["content"], str):
            continue
        for block in message["content"]:
            if block.get("type") == "tool_result":
                found[block["tool_use_id"]] = block
    return found


def _text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content)
    return str(content)


async def test_a_reply_over_the_cap_gets_cap_cards_and_the_model_is_told_the_rest_did_not_run(
    slack: LocalSlack,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Awaitable[Any]],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = [
        ToolUse("restart_service", {"service": "api"}, id="toolu_01A"),
        ToolUse("restart_service", {"service": "web"}, id="toolu_01B"),
        ToolUse("restart_service", {"service": "worker"}, id="toolu_01C"),
        ToolUse("restart_service", {"service": "db"}, id="toolu_01D"),
        ToolUse("deploy_service", {"service": "api", "version": "2.1.0"}, id="toolu_01E"),
    ]
    assert len(asked) == CAP + 3
    anthropic_api.reply("Restarting everything, as asked.", *asked)
    anthropic_api.reply("Two restarts wait for approval; I will ask for the rest after them.")
    start = anthropic_bot(monkeypatch, anthropic_api, start_bot)
    bot: SignoffBot = await start(max_calls_per_reply=CAP)
    await slack.wait_for_sockets(1, timeout=5)

    thread = await mention(slack, "restart everything and deploy api 2.1.0")
    # The first model call of a process waits for the SDK's import: seconds on a busy machine.
    await wait_card(slack, thread, timeout=30)
    await until(
        lambda: len(final_replies(slack, thread)) == 2 or len(cards(slack, thread)) > CAP,
        timeout=20,
        what="the second answer (or a card too many)",
    )
    await bot.engine.idle()

    # Exactly CAP cards, for the first CAP calls of the reply; no request for the rest.
    posted = cards(slack, thread)
    assert len(posted) == CAP
    assert len(final_replies(slack, thread)) == 2
    requests = sorted(p.name for p in (settings.home / "approvals").glob("*/appr_*"))
    assert requests == sorted(approval_id_of(card) for card in posted)
    # The model was asked again at once, with a result for every call of its reply.
    assert len(anthropic_api.requests) == 2
    results = _tool_results(anthropic_api.requests[1].body)
    assert set(results) == {use.id for use in asked}
    for use in asked[:CAP]:
        assert "waiting for approval" in _text(results[str(use.id)])
    for use in asked[CAP:]:
        block = results[str(use.id)]
        said = _text(block)
        assert block.get("is_error") is True and said.startswith("not run:"), said
        assert f"at most {CAP} tool calls" in said
    assert [restarts(settings.home, s) for s in ("api", "web", "worker", "db")] == [0, 0, 0, 0]
