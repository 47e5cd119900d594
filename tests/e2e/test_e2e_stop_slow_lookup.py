"""A stop while Slack is slow to say who may decide the thread's requests, through the wire.

A stop withdraws the waiting requests the stopper may decide, and deciding that may ask
Slack (who is in an approver group: ``usergroups.users.list``). The stop is acked only
once it is applied, and Slack delivers an event again that is not acked within 3 s. Before,
a lookup that took longer (a 429 with Retry-After, a call that hangs) held the ack past
them: Slack delivered the stop again while the first was still deciding, and a Slack that
said nothing for the client's whole timeout held it that long. Now the stop's lookups get
``CHECK_WITHIN`` all told, as a form's check does: what Slack has not answered by then
keeps its request waiting (fail closed), and the confirmation says which and why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from live_kit import (
    FakeAnthropic,
    ToolUse,
    anthropic_api,
    anthropic_bot,
    manifest_agent_workspace,
    stop_while_streaming,
)
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    bot_messages,
    bot_reply,
    cards,
    decision,
    existing_decision,
    has_buttons,
    mention,
    wait_card,
    write_policy,
)

from bot.config import Settings
from localslack import Fault, LocalSlack
from localslack.config import Timing

__all__ = ["anthropic_api"]

# S0APPROVERS: Alice (who asks) and Bob (who stops).
GROUP_POLICY = '[tools.restart_service]\napprovers = ["S0APPROVERS"]\n'
COULD_NOT = "signoff could not check with Slack whether <@U0BOB> may decide it"


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    # Slack's own 3 s for an ack.
    timing = Timing(ack_timeout=3.0, server_ping_interval=None)
    async with LocalSlack(manifest_agent_workspace(timing=timing)) as server:
        yield server


@pytest.mark.parametrize(
    ("fault", "bot"),
    [
        ({"status": 429, "retry_after": 4}, {}),  # Slack asks to come back in 4 s
        ({"hang": True, "count": None}, {"slack_timeout_s": 6}),  # no answer at all
    ],
    ids=["rate_limited", "hangs"],
)
async def test_a_stop_whose_group_lookup_is_slow_is_acked_in_time_and_keeps_the_request(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
    tmp_path: Path,
    fault: dict[str, Any],
    bot: dict[str, Any],
) -> None:
    """Alice asks for a restart only the approver group may approve; Bob, in the group,
    stops the turn that follows while Slack is slow to say who is in it."""
    faults: list[Fault] = []
    started, thread, approval, acked = await stop_while_streaming(
        slack,
        monkeypatch,
        anthropic_api,
        start_bot,
        stopper="U0BOB",
        before_stop=lambda: faults.append(
            slack.inject_fault(method="usergroups.users.list", **fault)
        ),
        ack_within=40,
        policy_path=write_policy(tmp_path / "policy.toml", GROUP_POLICY),
        **bot,
    )
    assert faults[0].fired >= 1  # the stop asked Slack who is in the group
    assert not acked.timed_out and not acked.late_ack and acked.retry_attempt == 0
    # Acked in time, so delivered once; the turn stopped at once all the same.
    confirmed = await bot_reply(slack, thread, "Stopped by <@U0BOB>")
    await started.engine.idle()
    assert len(anthropic_api.requests) == 2
    # Bob is an approver, but Slack did not say so in time: nothing is withdrawn on an
    # unknown, the card keeps its buttons, and the thread is told which request and why.
    assert decision(settings.home, approval) is None
    assert has_buttons(cards(slack, thread)[0])
    assert "withdrawn" not in confirmed["text"]
    assert f"request {approval} still waits for its approvers" in confirmed["text"]
    assert COULD_NOT in confirmed["text"]
    assert len(bot_messages(slack, thread, "Stopped by")) == 1
    events = [d for d in slack.deliveries(type="events_api") if d.retry_attempt > 0]
    assert events == [], "Slack delivered something again"


async def test_a_double_click_on_stop_while_a_lookup_waits_out_a_429_confirms_once(
    slack: LocalSlack,
    monkeypatch: pytest.MonkeyPatch,
    anthropic_api: FakeAnthropic,
    start_bot: Callable[..., Any],
    settings: Settings,
    tmp_path: Path,
) -> None:
    """Slack leaves the stop button until the turn ends: Bob clicks it twice, and signoff
    applies each click before its ack. Before, the two were applied side by side: the
    second click's lookup, answered first, withdrew the request and said so, and the
    first, back from its 429, said again that it stopped. Now a click waits for the one
    before it (within the same budget), and the thread is told once."""
    api = anthropic_api
    api.reply("I will restart api.", ToolUse("restart_service", {"service": "api"}, id="toolu_01R"))
    api.reply(" ".join(f"step {n} of a long explanation." for n in range(200)), chunk_delay=0.05)
    started = await anthropic_bot(monkeypatch, api, start_bot)(
        policy_path=write_policy(tmp_path / "policy.toml", GROUP_POLICY)
    )
    thread = await mention(slack, "restart api")
    approval = approval_id_of(await wait_card(slack, thread))
    await mention(slack, "and explain what you will do", thread_ts=thread, user="U0ALICE")
    await slack.wait_for_stream(channel=OPS, thread_ts=thread, state="streaming")
    await slack.wait_for_session_status(channel=OPS, thread_ts=thread, status="processing")
    # The first click's group lookup waits out a 429 for a second; the second click's is
    # answered at once.
    slack.inject_fault(method="usergroups.users.list", status=429, retry_after=1)
    clicks = [
        await slack.stop_agent_session(user="U0BOB", channel=OPS, thread_ts=thread)
        for _ in range(2)
    ]
    for click in clicks:
        assert click is not None
        assert not (await slack.wait_for_ack(click.envelope_id, timeout=10)).timed_out
    await started.engine.idle()
    assert existing_decision(settings.home, approval)["verdict"] == "denied"  # withdrawn
    said = [m.get("text", "") for m in bot_messages(slack, thread, "Stopped by")]
    assert len(said) == 1, said
    assert f"its request {approval} is withdrawn" in said[0], said
    events = [d for d in slack.deliveries(type="events_api") if d.retry_attempt > 0]
    assert events == [], "Slack delivered something again"  # each click acked in time
