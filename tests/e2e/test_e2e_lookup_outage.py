"""A click while Slack cannot say who is in a group or a channel, through the wire.

signoff asks Slack at click time who is in an approver group (``usergroups.users.list``)
and which channels a person can see (``conversations.info``, ``conversations.members``;
``/signoff pending`` is in test_e2e_listener_failures.py). When that call gets no
usable answer (a dropped connection, a body cut short), the click fails closed: nothing
is decided, and the person is told plainly that signoff could not check, not that they
are no approver, nor only that "something went wrong". The next click, once Slack
answers, is checked afresh (a failed lookup is never cached).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    OPS,
    as_in_manifest,
    asked_under,
    bot_reply,
    decision,
    ephemeral,
    ephemeral_texts,
    has_buttons,
    home_texts,
    write_policy,
)

from bot.cards import APPROVE, DENY
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory

# S0APPROVERS: Alice (who asks) and Bob.
GROUP_POLICY = '[tools.restart_service]\napprovers = ["S0APPROVERS"]\n'
BOB_ONLY = '[tools.restart_service]\napprovers = ["U0BOB"]\n'
COULD_NOT = "signoff could not check with Slack"


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=11, timing=FAST))) as server:
        yield server


@pytest.mark.parametrize("fault", ["drop_connection", "cut_short"])
async def test_an_approver_group_that_cannot_be_looked_up_fails_closed_and_says_why(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path, fault: str
) -> None:
    policy = write_policy(tmp_path / "policy.toml", GROUP_POLICY)
    bot, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    await bot.engine.idle()
    cut = fault == "cut_short"
    slack.inject_fault(
        method="usergroups.users.list", count=None, drop_connection=not cut, cut_short=cut
    )
    asked = len(slack.calls("usergroups.users.list"))
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    told = await ephemeral(slack, "U0BOB", COULD_NOT)
    assert told["text"].startswith("You may not decide this request: "), told["text"]
    assert "not an approver" not in told["text"]  # Bob is one: Slack just did not say
    assert len(slack.calls("usergroups.users.list")) > asked  # it was asked, not cached
    assert not [t for t in ephemeral_texts(slack, "U0BOB") if "went wrong" in t]
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))

    slack.clear_faults()  # Slack answers again: the same click decides
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    assert decision(settings.home, approval) is not None


async def test_a_home_opened_while_channels_cannot_be_looked_up_is_published(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", BOB_ONLY)
    bot, _thread, _card, _approval = await asked_under(slack, start_bot, policy, "restart api")
    await bot.engine.idle()
    for method in ("conversations.info", "conversations.members"):
        slack.inject_fault(method=method, count=None, drop_connection=True)
    await slack.open_app_home(user="U0BOB")
    view = await slack.wait_for_home_view(
        lambda v: COULD_NOT in home_texts(v), user="U0BOB", timeout=10
    )
    assert "Waiting for you" in home_texts(view)
    assert "Nothing waits for your decision." not in home_texts(view)


async def test_pending_and_the_home_say_when_approver_groups_cannot_be_looked_up(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    # A request only a group may decide: with the group's lookup failing it cannot be
    # listed for Bob, and "nothing waits" would not be true (it was said, leaving it out).
    policy = write_policy(tmp_path / "policy.toml", GROUP_POLICY)
    bot, _thread, _card, _approval = await asked_under(slack, start_bot, policy, "restart api")
    await bot.engine.idle()
    slack.inject_fault(method="usergroups.users.list", count=None, drop_connection=True)
    sent = await slack.slash_command(command="/signoff", user="U0BOB", channel=OPS, text="pending")
    await slack.wait_for_ack(sent.envelope_id)
    told = await ephemeral(slack, "U0BOB", COULD_NOT)
    assert "approver group" in told["text"], told["text"]
    assert not [t for t in ephemeral_texts(slack, "U0BOB") if "Nothing is waiting" in t]
    await slack.open_app_home(user="U0BOB")
    view = await slack.wait_for_home_view(
        lambda v: COULD_NOT in home_texts(v), user="U0BOB", timeout=10
    )
    assert "Nothing waits for your decision." not in home_texts(view)


@pytest.mark.parametrize("action", [APPROVE, DENY])
async def test_a_home_click_while_channels_cannot_be_looked_up_fails_closed_and_says_why(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    action: str,
) -> None:
    """A click from the Home asks Slack whether the person can see the request's channel.
    Without an answer nothing runs (no deny form opens either), the Home says signoff
    could not check (not that nothing waits, nor a count), and no traceback is logged."""
    policy = write_policy(tmp_path / "policy.toml", BOB_ONLY)
    first, thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    await slack.open_app_home(user="U0BOB")
    await slack.wait_for_home_view(
        lambda v: "Waiting for you (1)" in home_texts(v), user="U0BOB", timeout=10
    )
    # A new process, with Slack failing from before it starts: it caches nothing of the
    # channel. It draws every Home opened before again at start, and that draw (a lookup
    # while Slack still answered would cache that #ops is public for a minute, and a click
    # in a public channel then asks nothing) is over before the click; its publish fails
    # too, so Bob still has the Home the first process drew, with its buttons.
    await first.stop(grace=5)
    for method in ("conversations.info", "conversations.members"):
        slack.inject_fault(method=method, count=None, drop_connection=True)
    publish = slack.inject_fault(method="views.publish", error="fatal_error")
    fresh = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    assert fresh.home_tab is not None
    await fresh.engine.idle()
    await fresh.home_tab.idle()
    assert publish.fired == 1  # the draw at start was made, and not shown
    caplog.set_level(logging.INFO)
    await slack.click_view_button(user="U0BOB", action_id=action, value=approval)
    view = await slack.wait_for_home_view(
        lambda v: "whether you can see this request's channel" in home_texts(v),
        user="U0BOB",
        timeout=10,
    )
    shown = home_texts(view)
    assert COULD_NOT in shown
    assert "Nothing waits for your decision." not in shown
    assert "Waiting for you (" not in shown, shown  # no count it could not make
    assert slack.open_views(user="U0BOB") == []  # no deny form opened
    assert not [t for t in ephemeral_texts(slack, "U0BOB") if "went wrong" in t]
    assert decision(settings.home, approval) is None
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]

    slack.clear_faults()  # Slack answers again: the Home lists it, and a click decides
    await slack.open_app_home(user="U0BOB")
    await slack.wait_for_home_view(
        lambda v: "Waiting for you (1)" in home_texts(v), user="U0BOB", timeout=10
    )
    await slack.click_view_button(user="U0BOB", action_id=APPROVE, value=approval)
    await bot_reply(slack, thread, "restart_service` finished")
    assert decision(settings.home, approval) is not None


@pytest.mark.parametrize("error", ["missing_scope", "invalid_auth"])
async def test_a_lookup_the_app_may_not_make_is_no_verdict_on_the_clicker(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    error: str,
) -> None:
    """Slack refusing the app the lookup itself (a scope the install lacks, a token it
    revoked) says nothing of the person: Bob, in the group, is told signoff could not
    check, not that he is no approver; the log names Slack's answer for the operator;
    nothing is decided."""
    policy = write_policy(tmp_path / "policy.toml", GROUP_POLICY)
    bot, _thread, card, approval = await asked_under(slack, start_bot, policy, "restart api")
    await bot.engine.idle()
    caplog.set_level(logging.WARNING, logger="signoff.slack")
    slack.inject_fault(method="usergroups.users.list", count=None, error=error)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    told = await ephemeral(slack, "U0BOB", COULD_NOT)
    assert "not an approver" not in told["text"], told["text"]
    said = [r.getMessage() for r in caplog.records if r.name == "signoff.slack"]
    assert [m for m in said if "S0APPROVERS" in m and error in m], said
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))
