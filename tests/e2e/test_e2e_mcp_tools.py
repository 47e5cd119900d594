"""MCP tools end to end: localslack, the real Bolt app and a real MCP server (stdio), with
the offline model's ``call`` and with the fake Anthropic API choosing the server's tools."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import OPS, approval_id_of, bot_reply, mention, outcome_text, until, wait_card

from bot.cards import APPROVE
from localslack import LocalSlack
from sessions import FixedClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tooling"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "providers"))

from fake_anthropic import FakeAnthropic, ToolUse
from mcp_e2e_kit import approved_while_down, card_says, start_ops_bot
from mcp_fixture_kit import records, server_table, stdio_command, write_config

if TYPE_CHECKING:
    from conftest import BotFactory


@pytest.fixture
def ops(tmp_path: Path) -> tuple[Path, Path]:
    record = tmp_path / "ops-calls.jsonl"
    config = write_config(
        tmp_path / "signoff.toml", server_table(f"command = {stdio_command(record)}")
    )
    return config, record


async def test_offline_call_of_mcp_tools_through_slack(
    slack: LocalSlack, start_bot: BotFactory, ops: tuple[Path, Path]
) -> None:
    config, record = ops
    await start_bot(config_path=config, demo_tools=False)
    await slack.wait_for_sockets(1, timeout=5)

    thread = await mention(slack, "call ops__get_pods namespace=prod")
    answer = await bot_reply(slack, thread, "pods in prod")
    assert "api-7d9 Running" in answer["text"]

    thread = await mention(slack, "call ops__restart_deployment deployment=api namespace=prod")
    card = await wait_card(slack, thread)
    assert "ops__restart_deployment" in str(card["blocks"])
    assert "Tool says (unverified): not read-only, destructive" in str(card["blocks"])
    assert records(record, "restart_deployment") == []
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "deployment.apps/api restarted in prod", timeout=15)
    updated = slack.workspace.get(OPS, card["ts"])
    assert "Approved by" in outcome_text(updated)
    (call,) = records(record, "restart_deployment")
    assert call["approval_id"] == approval_id_of(card)

    help_thread = await mention(slack, "help")
    listing = await bot_reply(slack, help_thread, "ops__get_pods")
    assert "ops__delete_namespace" not in listing["text"]  # excluded: unknown to the model
    assert "restart_service" not in listing["text"]  # no demo fleet in this bot


async def test_the_fake_anthropic_model_chooses_mcp_tools(
    slack: LocalSlack,
    start_bot: BotFactory,
    ops: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config, record = ops
    async with FakeAnthropic(api_key="sk-ant-test-key") as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
        api.reply("Let me look.", ToolUse("ops__get_pods", {"namespace": "prod"}, id="toolu_01"))
        api.reply(
            "Both pods run; restarting api as asked.",
            ToolUse(
                "ops__restart_deployment",
                {"deployment": "api", "namespace": "prod"},
                id="toolu_02",
            ),
        )
        api.reply("api was restarted.")
        await start_bot(config_path=config, model="anthropic:claude-test", demo_tools=False)
        await slack.wait_for_sockets(1, timeout=5)

        thread = await mention(slack, "are the prod pods fine? restart api if needed")
        card = await wait_card(slack, thread, timeout=15)
        offered = {t["name"] for t in api.requests[0].body["tools"]}
        assert {"ops__get_pods", "ops__restart_deployment"} <= offered
        assert "ops__delete_namespace" not in offered
        # The server's result reached the model as the tool result.
        second = api.requests[1].body["messages"]
        assert "pods in prod" in str(second[-1]["content"])
        assert [r["tool"] for r in records(record)] == ["get_pods"]

        await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
        await bot_reply(slack, thread, "api was restarted.", timeout=15)
        await until(lambda: len(api.requests) == 3, what="the model to see the result")
        assert "restarted in prod" in str(api.requests[2].body["messages"])
        assert [r["tool"] for r in records(record)] == ["get_pods", "restart_deployment"]
    assert api.rejections == []


async def test_an_approved_call_of_a_server_that_is_down_names_its_approver(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path, e2e_clock: FixedClock
) -> None:
    # The thread is told the approved call waits for the server: "approved by @bob".
    # Bob's mention must render as one, not as the raw text "<@U0BOB>".
    down = tmp_path / "down"
    bot, record = await start_ops_bot(slack, start_bot, tmp_path, timeout="3s", down_if=down)
    call = "ops__restart_deployment deployment=api namespace=prod"
    _, card, told = await approved_while_down(slack, record, down, call)
    assert "<@U0BOB>" in told["text"] and "&lt;@U0BOB&gt;" not in told["text"], told["text"]
    assert records(record, "restart_deployment") == []

    # And the card says so: it said only "Approved by @bob", which read alone says
    # nothing of whether the restart ran.
    waiting = await until(
        card_says(slack, card, "Not run yet"), what="the card to say the call waits"
    )
    assert "MCP server ops is down" in waiting and "once the tool is available" in waiting

    down.unlink()  # the server can start again; the next try runs the call
    e2e_clock.advance(timedelta(minutes=5))
    await bot.engine.sweep()
    await bot.engine.idle()
    ran = await until(
        card_says(slack, card, "ran: ok"), timeout=30, what="the card to show the run"
    )
    assert "Not run yet" not in ran, ran
    assert len(records(record, "restart_deployment")) == 1


async def test_an_approved_call_that_timed_out_is_not_called_a_crash_on_its_card(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    # Nothing crashed: the server did not answer in time. The card said "outcome
    # uncertain (a crash)", sending the approver to look for one.
    _, record = await start_ops_bot(slack, start_bot, tmp_path, timeout="2s")
    thread = await mention(slack, "call ops__slow_restart deployment=api")
    card = await wait_card(slack, thread)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "did not answer within 2s", timeout=15)

    def outcome() -> str:
        text = outcome_text(slack.workspace.get(OPS, card["ts"]))
        return text if "uncertain" in text else ""

    shown = await until(outcome, what="the card to show the outcome")
    assert "crash" not in shown, shown
    assert "check the system" in shown
    assert len(records(record, "slow_restart")) == 1


async def test_an_approved_call_whose_tool_asks_a_question_is_uncertain_on_its_card(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    # The tool evicted the pods, then asked for a confirmation nobody gives: the server
    # answers with a "request not run" error code, and the card said "ran: failed" and the
    # thread "refused the call", as if nothing had been done.
    _, record = await start_ops_bot(slack, start_bot, tmp_path, timeout="10s", asking=True)
    thread = await mention(slack, "call ops__drain_node node=n1")
    card = await wait_card(slack, thread)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    told = await bot_reply(slack, thread, "elicitation/create", timeout=15)
    assert "refused" not in told["text"], told["text"]
    assert "may or may not have taken effect" in told["text"]

    def outcome() -> str:
        text = outcome_text(slack.workspace.get(OPS, card["ts"]))
        return text if "ran" in text else ""

    shown = await until(outcome, what="the card to show the outcome")
    assert "uncertain" in shown and "failed" not in shown, shown
    assert len(records(record, "drain_node")) == 1


async def test_a_value_slack_turned_into_a_link_reaches_the_tool_as_typed(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    # Slack links what looks like a domain or a URL as the message is sent: the event's
    # text holds <http://prod.io|prod.io> where the person typed prod.io. The server got
    # that markup as the namespace.
    _, record = await start_ops_bot(slack, start_bot, tmp_path, timeout="10s")
    thread = await mention(slack, "call ops__get_pods namespace=<http://prod.io|prod.io>")
    await bot_reply(slack, thread, "pods in prod.io")
    thread = await mention(
        slack, "call ops__get_pods namespace=<https://example.com/a?b=1&amp;c=2>"
    )
    await bot_reply(slack, thread, "pods in https://example.com/a?b=1")
    assert [r["arguments"]["namespace"] for r in records(record, "get_pods")] == [
        "prod.io",
        "https://example.com/a?b=1&c=2",
    ]
