"""The trace of a thread says whether each reply and card of its sessions reached Slack.

A write Slack refuses for good is given up (``test_e2e_delivery_errors.py``); that was
visible only in the log and in the thread's ``outbox.jsonl``, so an operator reading the
trace of a thread whose answer never came could not tell why. The trace now reads the
thread's outbox log (sessions are sealed when they end: nothing is written into them
afterwards) and says, per session, what was posted, what Slack refused and why, and what
still waits to be sent.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from signoff_e2e_kit import (
    OPS,
    bot_reply,
    lineage,
    mention,
    thread_path,
    until,
)

from agent_core.history import thread_history
from bot.app import SignoffBot
from bot.cli import main
from bot.config import Settings
from bot.trace_view import render_history
from localslack import LocalSlack
from sessions import FixedClock, Home


def block(trace: str, session_id: str) -> str:
    """The lines of one session in a rendered trace."""
    start = trace.index(session_id)
    end = trace.find("\n\n", start)
    return trace[start : end if end >= 0 else None]


def failed_lines(settings: Settings, thread: str) -> list[str]:
    log = thread_path(settings.home, thread) / "outbox.jsonl"
    if not log.exists():
        return []
    return [line for line in log.read_text().splitlines() if '"outcome":"failed"' in line]


async def test_the_trace_says_what_reached_slack_what_slack_refused_and_what_waits(
    slack: LocalSlack,
    bot: SignoffBot,
    settings: Settings,
    e2e_clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    thread = await mention(slack, "status of web")
    await bot_reply(slack, thread, "service=web,")
    await bot.engine.idle()

    # The channel is archived: Slack refuses the next reply for good.
    refused = slack.inject_fault(
        method="chat.postMessage", channel=OPS, error="is_archived", count=None
    )
    e2e_clock.advance(timedelta(minutes=1))
    await slack.post_message(channel=OPS, user="U0BOB", text="status of db", thread_ts=thread)
    await until(lambda: failed_lines(settings, thread), what="the refused reply given up")
    await bot.engine.idle()
    slack.remove_fault(refused)

    # The token is revoked: the reply after that waits, retried, for as long as it takes.
    revoked = slack.inject_fault(method="chat.postMessage", error="token_revoked", count=None)
    e2e_clock.advance(timedelta(minutes=1))
    await slack.post_message(channel=OPS, user="U0BOB", text="status of api", thread_ts=thread)
    await until(lambda: revoked.fired >= 1, what="a try of the third reply")
    await until(lambda: len(lineage(settings.home, thread)) == 3, what="the third session")
    first, second, third = lineage(settings.home, thread)

    # What `signoff trace` prints.
    monkeypatch.setenv("SIGNOFF_HOME", str(settings.home))
    assert main(["trace", third]) == 0
    printed = capsys.readouterr().out
    assert printed.strip() == render_history(thread_history(Home(settings.home), third)).strip()
    assert "📤 reply posted" in block(printed, first)
    assert "not posted" not in block(printed, first)
    assert "✖ reply not posted: is_archived (Slack refused it for good)" in block(printed, second)
    assert "📤" not in block(printed, second)
    assert "… reply still waiting to be sent" in block(printed, third)

    # Once Slack takes the token again, the trace says so.
    slack.remove_fault(revoked)
    await bot_reply(slack, thread, "service=api,")
    await bot.engine.idle()
    trace = render_history(thread_history(Home(settings.home), third))
    assert "📤 reply posted" in block(trace, third)
    assert "still waiting" not in trace


async def test_the_trace_says_a_card_slack_refused_was_never_shown(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    """A card refused for good leaves its session waiting for a decision nobody can click:
    the trace says the card never reached Slack, and why, beside the pending request."""
    slack.inject_fault(method="chat.postMessage", channel=OPS, error="is_archived", count=None)
    thread = await mention(slack, "restart the api service")
    await until(lambda: failed_lines(settings, thread), what="the card given up")
    await bot.engine.idle()
    (session,) = lineage(settings.home, thread)
    history = thread_history(Home(settings.home), session)
    (approval,) = history.sessions[0].approvals
    trace = render_history(history)
    assert f"⏳ {approval.capsule.id} restart_service pending" in trace
    refused = (
        f"✖ card {approval.capsule.id} (requested) not shown: is_archived "
        "(Slack refused it for good)"
    )
    assert refused in trace
    # `/signoff trace` in the channel says so too (its answer goes by the response_url).
    await slack.slash_command(command="/signoff", user="U0BOB", channel=OPS, text="trace")
    answer = await slack.wait_for_ephemeral(user="U0BOB", text_contains=refused)
    assert str(answer["text"]).endswith(f"{refused}\n```")  # in the escaped block
