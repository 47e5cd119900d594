"""A stop from a Slack Connect guest stops the work, but withdraws only what they may decide.

#ops is shared with a guest from another organization; under an ``anyone`` rule they are
no approver, so their stop (the agent's stop button) must not deny a colleague's request.
``agent_session_stopped`` names only the user: signoff asks ``users.info`` for their team,
and when Slack gives no answer it withdraws nothing an ``anyone`` rule governs, and says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from live_kit import FakeAnthropic, anthropic_api, manifest_agent_workspace, stop_while_streaming
from signoff_e2e_kit import (
    OPS,
    bot_messages,
    bot_reply,
    cards,
    decision,
    has_buttons,
    with_guest_in_ops,
)

from bot.config import Settings
from localslack import LocalSlack
from localslack.config import Timing, UserSpec

__all__ = ["anthropic_api"]

GUEST = UserSpec(id="U0GUEST", name="gina", team_id="T0PARTNER")


@pytest.fixture
async def slack(request: pytest.FixtureRequest) -> AsyncIterator[LocalSlack]:
    """The app as manifest.yml declares it, made an agent as docs/slack.md says (its
    scope and the stop button's event), in a workspace whose #ops is shared with a guest
    from another organization (``slack_timing``: its Timing, else the suite's fast one)."""
    marker = request.node.get_closest_marker("slack_timing")
    base = manifest_agent_workspace(**({"timing": marker.args[0]} if marker else {}))
    async with LocalSlack(with_guest_in_ops(base, GUEST)) as server:
        yield server


async def test_a_guests_stop_stops_the_turn_but_leaves_the_request_to_the_organization(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
) -> None:
    bot, thread, approval, _ = await stop_while_streaming(
        slack, monkeypatch, anthropic_api, start_bot, stopper=GUEST.id
    )
    confirmed = await bot_reply(slack, thread, f"Stopped by <@{GUEST.id}>")
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="active")
    await bot.engine.idle()
    # The turn stopped (the model was not let go on), but nobody of the organization denied
    # the request: it still waits, its card keeps its buttons, and the thread says why.
    assert len(anthropic_api.requests) == 2
    assert decision(settings.home, approval) is None
    [card] = cards(slack, thread)
    assert has_buttons(card)
    assert "withdrawn" not in confirmed["text"]
    assert f"request {approval} still waits for its approvers" in confirmed["text"]
    assert "another organization" in confirmed["text"]
    assert slack.calls("users.info")  # the event names no team: Slack was asked


async def test_a_stop_whose_stopper_slack_cannot_place_withdraws_nothing_open_to_anyone(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
) -> None:
    """users.info is ratelimited for good: the stopper's organization is unknown, so the
    request is left waiting (fail closed) and the thread is told so in plain words."""
    slack.inject_fault(method="users.info", error="ratelimited", count=None, retry_after=0)
    bot, thread, approval, _ = await stop_while_streaming(
        slack, monkeypatch, anthropic_api, start_bot, stopper="U0BOB"
    )
    confirmed = await bot_reply(slack, thread, "Stopped by <@U0BOB>")
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    assert has_buttons(cards(slack, thread)[0])
    assert "could not check with Slack which organization <@U0BOB> is in" in confirmed["text"]


async def test_a_colleagues_stop_withdraws_the_request_under_an_anyone_rule(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
) -> None:
    """Bob, of the installation's organization, stops the turn: the request he may decide
    is withdrawn (denied by him), which needs ``users.info`` and so its scope."""
    bot, thread, approval, _ = await stop_while_streaming(
        slack, monkeypatch, anthropic_api, start_bot, stopper="U0BOB"
    )
    confirmed = await bot_reply(slack, thread, "Stopped by <@U0BOB>")
    await bot.engine.idle()
    denied = decision(settings.home, approval)
    assert denied is not None and denied["verdict"] == "denied", confirmed["text"]
    assert "withdrawn" in confirmed["text"]


@pytest.mark.slack_timing(Timing(ack_timeout=3.0, server_ping_interval=None))  # Slack's 3 s
async def test_a_stop_is_acked_in_time_though_slack_is_slow_to_place_the_stopper(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
) -> None:
    """users.info hangs (the client's timeout, 30 s, would end it): the stop is acked within
    Slack's 3 s all the same, so Slack does not deliver it again, and it takes effect at
    once; the stopper's organization counts as unknown (fail closed), and the thread says so."""
    bot, thread, approval, acked = await stop_while_streaming(
        slack,
        monkeypatch,
        anthropic_api,
        start_bot,
        stopper="U0BOB",
        before_stop=lambda: slack.inject_fault(method="users.info", count=None, hang=True),
    )
    assert not acked.timed_out and acked.retry_attempt == 0
    confirmed = await bot_reply(slack, thread, "Stopped by <@U0BOB>")
    assert "could not check with Slack which organization <@U0BOB> is in" in confirmed["text"]
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    assert len(bot_messages(slack, thread, "Stopped by")) == 1
    assert len(anthropic_api.requests) == 2
