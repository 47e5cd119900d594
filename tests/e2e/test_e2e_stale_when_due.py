"""An approval that goes stale while its call cannot start is said stale when it does,
not when the call could start again: the card and the thread tell the true state within
the sweep's time (the bot's own loop, every 5 s), while the kill switch stays on or the
tool's server stays down; it never runs, and nothing is said twice, across restarts and
after the switch is lifted.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import restart
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    asked_under,
    bot_messages,
    bot_reply,
    capsule,
    cards,
    decision,
    existing_decision,
    has_buttons,
    lineage,
    mention,
    outcome_text,
    restarts,
    until,
    wait_card,
    write_policy,
)

from agent_core.history import thread_history
from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.config import Settings
from bot.trace_view import render_history
from localslack import LocalSlack
from sessions import FixedClock, Home

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tooling"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "providers"))

from fake_anthropic import FakeAnthropic, ToolUse
from mcp_fixture_kit import kill, records, server_table, stdio_command, write_config

if TYPE_CHECKING:
    from conftest import BotFactory

# The bot's own loop finds each window closed: a pass every 0.5 s, not every 5 s, so each
# test waits for the loop (no sweep called) without waiting 5 s for it.
pytestmark = pytest.mark.sweep_every(0.5)


VALID_1H = '[tools.restart_service]\napprovers = ["U0BOB"]\nvalid_for = "1h"\n'
STALE_NOTE = "⌛ The approval of "


def _card_is_stale(slack: LocalSlack, ts: str) -> bool:
    card = slack.message(channel=OPS, ts=ts)
    return not has_buttons(card) and "Stale" in outcome_text(card)


def _trace_events(home: Path, thread: str, kind: str) -> list[dict[str, Any]]:
    events = []
    for sid in lineage(home, thread):
        path = home / "sessions" / sid[5:7] / sid / "trace.jsonl"
        for line in path.read_text().splitlines() if path.exists() else []:
            event = json.loads(line)
            if event["kind"] == kind:
                events.append(event)
    return events


def _files(home: Path, approval: str, suffix: str) -> list[Path]:
    return list(home.glob(f"sessions/*/*/approvals/{approval}.{suffix}.json"))


async def test_a_call_the_kill_switch_holds_past_its_window_is_said_stale_when_due(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    policy = write_policy(tmp_path / "policy.toml", VALID_1H)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    home = settings.home
    (home / "KILL").touch()
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: decision(home, approval), what="the decision")
    await bot_reply(slack, thread, "the kill switch is on")  # frozen, and said so
    await bot.engine.idle()
    valid_until = existing_decision(home, approval)["valid_until"]

    # The window closes with the switch still on. No sweep is called: the bot's own loop
    # finds it due, and the card and the thread say so now, not when the switch is lifted.
    e2e_clock.advance(timedelta(hours=1, seconds=1))
    note = await bot_reply(slack, thread, "went stale", timeout=10)
    assert note["text"].startswith(STALE_NOTE) and "<@U0BOB>" in note["text"]
    assert "A fresh request is needed" in note["text"]
    await until(lambda: _card_is_stale(slack, card["ts"]), timeout=10, what="the stale card")
    (stale_file,) = _files(home, approval, "stale")
    assert json.loads(stale_file.read_text())["valid_until"] == valid_until
    assert _files(home, approval, "claim") == [] and restarts(home) == 0
    trace = render_history(thread_history(Home(home), lineage(home, thread)[0]))
    assert f"{approval} approved by U0BOB" in trace and "went stale at" in trace, trace

    # A restart with the switch still on says nothing again.
    bot = await restart(bot, start_bot, slack, policy_path=policy)
    await bot.engine.sweep()
    await bot.engine.idle()
    assert len(bot_messages(slack, thread, STALE_NOTE)) == 1

    # Lifted: it never runs; the model is told (once), and nothing is announced twice.
    (home / "KILL").unlink()
    await bot.engine.sweep()
    told = await bot_reply(slack, thread, "was not run")  # the model's answer
    assert "went stale" in told["text"]
    await bot.engine.idle()
    await bot.engine.sweep()
    await bot.engine.idle()
    assert restarts(home) == 0 and _files(home, approval, "claim") == []
    assert len(bot_messages(slack, thread, STALE_NOTE)) == 1
    assert _card_is_stale(slack, card["ts"])
    refused = _trace_events(home, thread, "approved_call_refused")
    assert [e["data"]["reason"] for e in refused] == ["stale"], refused
    assert refused[0]["data"]["valid_until"] == valid_until


async def test_a_call_whose_server_stays_down_past_its_window_is_said_stale_when_due(
    slack: LocalSlack,
    start_bot: BotFactory,
    e2e_clock: FixedClock,
    tmp_path: Path,
) -> None:
    record = tmp_path / "ops-calls.jsonl"
    down = tmp_path / "down"
    tools = server_table(f"command = {stdio_command(record, down_if=down)}", timeout="3s")
    rule = '[policy.tools.ops__restart_deployment]\napprovers = ["U0BOB"]\nvalid_for = "1h"\n'
    config = write_config(tmp_path / "signoff.toml", tools + "\n" + rule)
    bot: SignoffBot = await start_bot(config_path=config, demo_tools=False)
    await slack.wait_for_sockets(1, timeout=5)
    await until(
        lambda: any(s.name.startswith("ops__") for s in bot.engine.tools.specs()),
        timeout=60,
        what="the ops server's tools to be offered",
    )
    thread = await mention(slack, "call ops__get_pods namespace=prod")
    await bot_reply(slack, thread, "pods in prod", timeout=30)  # the server has started
    thread = await mention(slack, "call ops__restart_deployment deployment=api namespace=prod")
    card = await wait_card(slack, thread, timeout=30)
    down.touch()
    kill(records(record)[-1]["pid"])  # the server dies, and does not start again
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "did not run", timeout=15)  # deferred, not spent
    await bot.engine.idle()

    # The outage outlasts the window: said stale when it closes, the server still down.
    e2e_clock.advance(timedelta(hours=1, seconds=2))
    note = await bot_reply(slack, thread, "went stale", timeout=10)
    assert note["text"].startswith(STALE_NOTE)
    await until(lambda: _card_is_stale(slack, card["ts"]), timeout=10, what="the stale card")

    # The server back: it never runs, and nothing is said twice.
    down.unlink()
    bot = await restart(bot, start_bot, slack, config_path=config, demo_tools=False)
    await bot.engine.sweep()
    await bot.engine.idle()
    assert records(record, "restart_deployment") == []
    assert len(bot_messages(slack, thread, STALE_NOTE)) == 1


async def test_a_call_waiting_for_the_rest_of_its_turn_past_its_window_is_said_stale_when_due(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    e2e_clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A turn that asked for two calls resumes once both are decided: the approved one
    waits for the other's decision, and its window may close meanwhile."""
    policy = write_policy(tmp_path / "policy.toml", VALID_1H)
    home = settings.home
    async with FakeAnthropic(api_key="sk-ant-test-key", default_text="Noted.") as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
        api.reply(
            "Restarting both.",
            ToolUse("restart_service", {"service": "api"}, id="toolu_01"),
            ToolUse("restart_service", {"service": "web"}, id="toolu_02"),
        )
        bot = await start_bot(policy_path=policy, model="anthropic:claude-test")
        await slack.wait_for_sockets(1, timeout=5)
        thread = await mention(slack, "restart api and web")
        both = await until(lambda: len(cards(slack, thread)) == 2 and cards(slack, thread))
        (api_card,) = [
            c for c in both if capsule(home, approval_id_of(c))["arguments"]["service"] == "api"
        ]
        approval = approval_id_of(api_card)
        await slack.click_button(channel=OPS, ts=api_card["ts"], user="U0BOB", action_id=APPROVE)
        await until(lambda: decision(home, approval), what="the decision")
        await bot.engine.idle()
        assert restarts(home) == 0  # it waits for the web card's decision

        # Its window closes while web's card still waits: said now, by the bot's own loop.
        e2e_clock.advance(timedelta(hours=1, seconds=1))
        note = await bot_reply(slack, thread, "went stale", timeout=10)
        assert note["text"].startswith(STALE_NOTE) and "<@U0BOB>" in note["text"]
        await until(lambda: _card_is_stale(slack, api_card["ts"]), timeout=10, what="stale")
        assert restarts(home) == 0 and _files(home, approval, "claim") == []

        # Web approved: the turn resumes; web runs, api never; the model hears both.
        (web_card,) = [c for c in both if c is not api_card]
        await slack.click_button(channel=OPS, ts=web_card["ts"], user="U0BOB", action_id=APPROVE)
        await until(lambda: len(api.requests) == 2, what="the model to hear both outcomes")
        await bot.engine.idle()
        results = api.requests[1].body["messages"][-1]["content"]
        told = {r["tool_use_id"]: r["content"] for r in results}
        assert "went stale" in told["toolu_01"] and '"restarts": 1' in told["toolu_02"], told
        assert restarts(home) == 0 and restarts(home, "web") == 1
        assert len(bot_messages(slack, thread, STALE_NOTE)) == 1
        refused = _trace_events(home, thread, "approved_call_refused")
        assert [e["data"]["approval_id"] for e in refused] == [approval]
