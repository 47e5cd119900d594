"""What the bot token's readiness check takes from each Web API attempt."""

from __future__ import annotations

from agent_core.observe import SlackApiCall
from bot.token_watch import BotTokenWatch


async def test_a_refused_token_is_a_problem_until_a_call_with_it_succeeds() -> None:
    watch = BotTokenWatch()
    assert await watch.check() is None
    watch.emit(SlackApiCall(method="chat.postMessage", outcome="error", error="invalid_auth"))
    refused = await watch.check()
    assert refused is not None and "chat.postMessage: invalid_auth" in refused
    # Neither a 429, nor an error about something else, nor the app token's own call
    # (the Socket Mode link's, on the other token) says the bot token is taken again.
    watch.emit(SlackApiCall(method="chat.update", outcome="ratelimited", error="ratelimited"))
    watch.emit(SlackApiCall(method="chat.update", outcome="error", error="channel_not_found"))
    watch.emit(SlackApiCall(method="apps.connections.open", outcome="ok"))
    assert await watch.check() == refused
    watch.emit(SlackApiCall(method="reactions.add", outcome="ok"))
    assert await watch.check() is None


async def test_the_app_tokens_refusal_is_not_the_bot_tokens() -> None:
    watch = BotTokenWatch()
    watch.emit(SlackApiCall(method="apps.connections.open", outcome="error", error="invalid_auth"))
    assert await watch.check() is None  # the socket check reports the link
