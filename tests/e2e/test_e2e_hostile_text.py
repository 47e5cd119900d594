"""Text people and models write is data; forms and lists answer only who they are for.

Hostile-input issue, items 2, 5 and 6, end to end through LocalSlack and the real Bolt app:
a deny reason and a model's reply full of broadcast mentions and markup are posted inert;
a deny form is accepted only for the view the bot opened for that person, once;
``/signoff pending`` shows what this person may decide (the click's own check), from
channels they are in.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    bot_messages,
    bot_reply,
    decision,
    existing_decision,
    mention,
    outcome_text,
    until,
    wait_card,
    write_policy,
)

from bot.cards import DENY
from bot.reason_modal import DENY_MODAL
from localslack import LocalSlack

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "providers"))
from fake_anthropic import FakeAnthropic, ToolUse

HOSTILE = "<!here> <!channel> <!everyone> <!subteam^S0ONCALL|@oncall> <@U0DAVE> & <b>x</b>"
BROADCASTS = ("<!here>", "<!channel>", "<!everyone>", "<!subteam^")


def _posted(slack: LocalSlack, thread: str) -> str:
    """Everything the bot posted in the thread: texts and every block's text."""
    return str([(m.get("text"), m.get("blocks")) for m in bot_messages(slack, thread)])


async def test_a_deny_reason_full_of_mentions_is_posted_inert(
    slack: LocalSlack, bot: Any, settings: Any
) -> None:
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=DENY)
    await until(lambda: slack.open_views(user="U0BOB"), what="the deny modal")
    await slack.submit_view(user="U0BOB", values={"reason": {"reason": HOSTILE}})
    await bot_reply(slack, thread, "did not run")
    await bot.engine.idle()
    posted = _posted(slack, thread)
    for broadcast in BROADCASTS:
        assert broadcast not in posted, broadcast
    assert "<@U0DAVE>" not in posted  # a mention nobody held the id of
    assert "&lt;!here&gt;" in posted and "&amp;" in posted and "&lt;b&gt;" in posted
    # The card's update is an outbox entry of its own: it may land after the reply.
    await until(
        lambda: "&lt;!channel&gt;" in outcome_text(slack.message(channel=OPS, ts=card["ts"])),
        what="the card showing the reason, inert",
    )
    assert (
        existing_decision(settings.home, approval_id_of(card))["reason"] == HOSTILE
    )  # kept as typed


async def _model_said(
    slack: LocalSlack,
    start_bot: Any,
    monkeypatch: pytest.MonkeyPatch,
    script: Callable[[FakeAnthropic], object],
    contains: str,
) -> str:
    """The bot's reply containing ``contains``, asked with a model scripted by ``script``;
    every broadcast in it is inert."""
    async with FakeAnthropic(api_key="sk-ant-test-key") as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
        script(api)
        await start_bot(model="anthropic:claude-test")
        await slack.wait_for_sockets(1, timeout=5)
        thread = await mention(slack, "say something")
        # A bound, not a pace: the first call imports the SDK, slow on a loaded machine.
        text = str((await bot_reply(slack, thread, contains, timeout=30))["text"])
    for broadcast in BROADCASTS:
        assert broadcast not in text, broadcast
    return text


async def test_a_model_reply_full_of_mentions_is_posted_inert(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = f"Sure. {HOSTILE} <https://evil.example|click me> <@U0ALICE>"
    text = await _model_said(slack, start_bot, monkeypatch, lambda api: api.reply(answer), "Sure.")
    assert "<https://evil.example" not in text and "&lt;https://evil.example|click me&gt;" in text
    assert "<@U0DAVE>" not in text
    assert "<@U0ALICE>" in text  # she wrote in this thread: signoff holds her id


async def test_a_model_error_quoting_a_mention_pings_nobody(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An error's text is the provider's (it may quote what was sent): data, like a reply,
    # but not the model's words to the thread's people.
    said = f"messages.0: cannot read <@U0ALICE> {HOSTILE}"
    text = await _model_said(
        slack,
        start_bot,
        monkeypatch,
        lambda api: api.error(400, message=said),
        "could not get an answer",
    )
    assert "<@" not in text and "&lt;@U0ALICE&gt;" in text


async def test_a_tool_name_the_model_made_up_is_not_shown_in_the_status_or_the_steps(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name that is no tool's (the call fails) is the model's text: it never reaches the
    thread's status line or the streamed reply's task steps as markup."""
    bad = "<!channel> <@U0DAVE>"

    def script(api: FakeAnthropic) -> None:
        api.reply(ToolUse(name=bad))
        api.reply("That tool does not exist, sorry.")

    await _model_said(slack, start_bot, monkeypatch, script, "does not exist")
    shown = [str(c.args.get("status")) for c in slack.calls("assistant.threads.setStatus")]
    shown += [str(task) for s in slack.streams(channel=OPS) for task in s.get("tasks", [])]
    assert any("unknown tool" in text for text in shown), shown  # it is said, not quoted
    for text in shown:
        assert "<!channel>" not in text and "<@U0DAVE>" not in text, text


def _forged_denial(approval_id: str, *, user: str, view_id: str) -> dict[str, Any]:
    """A view_submission shaped as Slack sends one (docs: view_submission payload)."""
    return {
        "type": "view_submission",
        "team": {"id": "T0LOCAL", "domain": "local"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0LOCAL"},
        "api_app_id": "A0SIGNOFF",
        "token": "legacy",
        "trigger_id": "1111.2222.abc",
        "view": {
            "id": view_id,
            "team_id": "T0LOCAL",
            "type": "modal",
            "callback_id": DENY_MODAL,
            "private_metadata": approval_id,
            "hash": "1700000000.abc",
            "state": {
                "values": {"reason": {"reason": {"type": "plain_text_input", "value": "no"}}}
            },
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }


async def test_a_deny_form_counts_only_for_the_view_opened_for_that_person_once(
    slack: LocalSlack, bot: Any, settings: Any
) -> None:
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)

    async def forged(user: str, view_id: str) -> None:
        sent = await slack.send_envelope(
            type="interactive", payload=_forged_denial(approval, user=user, view_id=view_id)
        )
        await slack.wait_for_ack(sent.envelope_id)
        await bot.engine.idle()

    # A view the bot never opened, from someone who may deny.
    await forged("U0BOB", "V0NEVEROPENED")
    assert decision(settings.home, approval) is None
    # Bob clicks Deny: the bot opens a modal for him. Carol submits Bob's view: refused.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=DENY)
    views = await until(lambda: slack.open_views(user="U0BOB"), what="the deny modal")
    bobs = str(views[0]["id"])
    await forged("U0CAROL", bobs)
    assert decision(settings.home, approval) is None
    # Bob's own submission of his view counts, once.
    await slack.submit_view(user="U0BOB", values={"reason": {"reason": "not now"}})
    await until(lambda: decision(settings.home, approval), what="the denial")
    assert existing_decision(settings.home, approval)["deciders"] == ["U0BOB"]
    assert existing_decision(settings.home, approval)["reason"] == "not now"


POLICY_ANYONE = """
[default]
approvers = ["anyone"]
"""

POLICY_SELF = """
[default]
approvers = ["anyone"]
allow_self_approval = true
"""


async def test_pending_lists_what_a_click_would_decide_as_the_home_does(
    slack: LocalSlack, start_bot: Any, tmp_path: Path
) -> None:
    from signoff_e2e_kit import ephemeral

    bot = await start_bot(policy_path=write_policy(tmp_path / "p.toml", POLICY_ANYONE))
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    await wait_card(slack, thread)
    await bot.engine.idle()
    # Dave may approve (anyone may) and is not in #ops, a public channel he can read: his
    # click would decide it, and his Home lists it, so pending does too (before, it said
    # "Nothing is waiting for your decision").
    await slack.slash_command(
        command="/signoff", user="U0DAVE", channel="C0GENERAL", text="pending"
    )
    said = await ephemeral(slack, "U0DAVE", "waiting")
    assert said["text"].startswith("1 request(s) waiting for you:"), said["text"]
    await slack.slash_command(command="/signoff", user="U0BOB", channel="C0GENERAL", text="pending")
    said = await ephemeral(slack, "U0BOB", "waiting")
    assert said["text"].startswith("1 request(s) waiting for you:")


async def test_pending_follows_the_policy_s_self_approval_rule(
    slack: LocalSlack, start_bot: Any, tmp_path: Path
) -> None:
    from signoff_e2e_kit import ephemeral

    bot = await start_bot(policy_path=write_policy(tmp_path / "p.toml", POLICY_SELF))
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    await bot.engine.idle()
    # Alice asked; the policy lets a requester approve: the click would be accepted, so
    # her own request is listed for her.
    await slack.slash_command(command="/signoff", user="U0ALICE", channel=OPS, text="pending")
    said = await ephemeral(slack, "U0ALICE", "waiting")
    assert f"`{approval_id_of(card)}`" in said["text"]
