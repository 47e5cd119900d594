"""A form used up by a process killed before it recorded anything can be submitted again.

A deny, approve-with-reason or edit submission uses its form up (a view counts once)
before its ack and before its decision or edit is recorded. A ``signoff run`` SIGKILLed in between (the
``form.after_taken`` failpoint) never acks: Slack shows the person an error over the form,
still open, and they submit it again to the next process. That submission was told "This
form was submitted already; the first submission counts, so nothing more was recorded",
though nothing was recorded and the request still waited. The first bot is a real
subprocess, killed with nothing flushed; the second is built in this process.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from signoff_e2e_kit import (
    OPS,
    BotProcess,
    approval_id_of,
    decision,
    ephemeral,
    existing_decision,
    existing_message,
    mention,
    until,
    wait_card,
    write_policy,
)

from bot.card_governance import EDIT
from bot.cards import APPROVE, DENY
from bot.config import Settings
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

REASONED = '[tools.restart_service]\napprovers = ["U0BOB", "U0CAROL"]\nrequire_reason = true\n'
TWO_REASONED = REASONED + "quorum = 2\n"
TWO_FOR_SCALING = '[tools.scale_service]\napprovers = ["U0BOB", "U0CAROL"]\nquorum = 2\n'
REASON: dict[str, dict[str, object]] = {"reason": {"reason": "not now"}}
TO_SIX: dict[str, dict[str, object]] = {
    "arg:service": {"value": "api"},
    "arg:replicas": {"value": "6"},
}


Launch = Callable[[Path], BotProcess]


@pytest.fixture
def launch(slack: LocalSlack, settings: Settings, tmp_path: Path) -> Iterator[Launch]:
    started: list[BotProcess] = []

    def run(policy: Path) -> BotProcess:
        started.append(
            BotProcess(slack, settings.home, tmp_path, policy, SIGNOFF_FAILPOINT="form.after_taken")
        )
        return started[-1]

    yield run
    for process in started:
        process.kill()


async def killed_while_submitting(
    slack: LocalSlack,
    process: BotProcess,
    *,
    action_id: str,
    user: str = "U0BOB",
    asked: str = "restart api",
    values: dict[str, dict[str, object]] = REASON,
) -> tuple[dict[str, Any], str]:
    """``user`` clicks ``action_id`` on the card of what was ``asked``, and submits its form
    with ``values``; the process dies as the form is used up. (The card, the approval id.)"""
    await slack.wait_for_sockets(1, timeout=30)
    thread = await mention(slack, asked)
    card = await wait_card(slack, thread, timeout=20)
    await slack.click_button(channel=OPS, ts=card["ts"], user=user, action_id=action_id)
    await until(lambda: slack.open_views(user=user), what="the form")
    sent = await slack.submit_view(user=user, values=values)
    await until(lambda: process.proc.poll() is not None, what="the kill at the failpoint")
    assert process.proc.returncode == -signal.SIGKILL
    await until(lambda: not slack.sockets(), what="the dead process's socket to close")
    [first] = [d for d in slack.deliveries(type="interactive") if d.envelope_id == sent.envelope_id]
    assert not first.acked  # Slack shows an error; the form stays open
    return card, approval_id_of(card)


async def submitted_again(
    slack: LocalSlack, user: str = "U0BOB", values: dict[str, dict[str, object]] = REASON
) -> dict[str, Any]:
    """The person submits the still open form again: what its ack answers."""
    sent = await slack.submit_view(user=user, values=values)
    acked = await slack.wait_for_ack(sent.envelope_id, timeout=3)  # Slack's 3 s
    assert not acked.timed_out
    return acked.ack_payload or {}


def notice(answer: dict[str, Any]) -> str:
    view = answer.get("view") or {}
    return " ".join(str(b.get("text", {}).get("text", "")) for b in view.get("blocks", []))


async def test_a_denial_lost_to_a_crash_is_taken_when_the_form_is_sent_again(
    slack: LocalSlack, launch: Launch, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", REASONED)
    _, approval = await killed_while_submitting(slack, launch(policy), action_id=DENY)
    assert decision(settings.home, approval) is None  # nothing was recorded

    bot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    answer = await submitted_again(slack)
    assert "submitted already" not in notice(answer), notice(answer)
    made = await until(lambda: decision(settings.home, approval), what="the denial")
    assert (made["verdict"], made["deciders"], made["reason"]) == ("denied", ["U0BOB"], "not now")
    await bot.engine.idle()


async def test_an_approval_lost_to_a_crash_is_counted_when_the_form_is_sent_again(
    slack: LocalSlack, launch: Launch, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", TWO_REASONED)
    card, approval = await killed_while_submitting(slack, launch(policy), action_id=APPROVE)

    bot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    answer = await submitted_again(slack)
    assert "submitted already" not in notice(answer), notice(answer)
    await bot.engine.idle()
    # Bob's vote counts now: Carol's completes the quorum.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await until(lambda: slack.open_views(user="U0CAROL"), what="Carol's form")
    await slack.submit_view(user="U0CAROL", values={"reason": {"reason": "ok"}})
    made = await until(lambda: decision(settings.home, approval), what="the approval")
    assert (made["verdict"], sorted(made["deciders"])) == ("approved", ["U0BOB", "U0CAROL"])
    await bot.engine.idle()


async def test_an_edit_lost_to_a_crash_is_recorded_when_the_form_is_sent_again(
    slack: LocalSlack, launch: Launch, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "policy.toml", TWO_FOR_SCALING)
    card, approval = await killed_while_submitting(
        slack,
        launch(policy),
        action_id=EDIT,
        user="U0CAROL",
        asked="scale api to 12",
        values=TO_SIX,
    )

    bot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    answer = await submitted_again(slack, "U0CAROL", TO_SIX)
    assert "submitted already" not in notice(answer), notice(answer)
    told = await ephemeral(slack, "U0CAROL", "Your edit is recorded")
    assert "(1 of 2)" in told["text"]
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    shown = json.dumps(
        existing_message(slack, channel=OPS, ts=card["ts"])["blocks"], ensure_ascii=False
    )
    assert "replicas: 12 → 6" in shown, shown


async def test_a_denial_lost_to_a_crash_and_sent_after_another_decided_says_it_did_not_count(
    slack: LocalSlack, launch: Launch, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    """Bob's denial was lost; Carol approved before he sent his form again: he is told the
    request is decided by her, not that his first submission counted."""
    policy = write_policy(tmp_path / "policy.toml", REASONED)
    card, approval = await killed_while_submitting(slack, launch(policy), action_id=DENY)
    bot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await until(lambda: slack.open_views(user="U0CAROL"), what="Carol's form")
    await slack.submit_view(user="U0CAROL", values={"reason": {"reason": "ok"}})
    await until(lambda: decision(settings.home, approval), what="Carol's approval")
    await bot.engine.idle()

    said = notice(await submitted_again(slack))
    assert "approved by <@U0CAROL>" in said and "nothing" in said, said
    assert "first submission counts" not in said, said
    await bot.engine.idle()
    assert existing_decision(settings.home, approval)["deciders"] == ["U0CAROL"]
