"""A group DM (an mpim) is a private room: a person learns of its sessions, requests and
traces only if they are in it. Its members use signoff there as in a private channel
(follow-ups without a mention, ``/signoff`` as documented); everyone else, even an
approver the policy names, meets it as if it did not exist, and cannot decide its cards.

All under exactly manifest.yml's scopes and events, through the real bot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import FAST
from signoff_e2e_kit import (
    CARD_TITLE,
    GROUP_DM,
    OPS,
    approval_id_of,
    decision,
    ephemeral_texts,
    lineage,
    restarts,
    until,
    with_group_dm,
    write_policy,
)

from bot.card_governance import EDIT
from bot.cards import APPROVE, DENY
from bot.config import Settings
from localslack import LocalSlack, WorkspaceConfig

if TYPE_CHECKING:
    from conftest import BotFactory

    from bot.app import SignoffBot

T = "T0LOCAL"


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:  # the manifest's app, and one group DM
    async with LocalSlack(with_group_dm(WorkspaceConfig(seed=5, timing=FAST))) as server:
        yield server


async def answer_to(slack: LocalSlack, user: str, channel: str, text: str) -> str:
    before = len(ephemeral_texts(slack, user))
    sent = await slack.slash_command(command="/signoff", user=user, channel=channel, text=text)
    (told,) = await until(lambda: ephemeral_texts(slack, user)[before:], what="the answer")
    assert not (await slack.wait_for_ack(sent.envelope_id)).user_saw_error
    return str(told)


async def started(start_bot: BotFactory, slack: LocalSlack, tmp_path: Path) -> SignoffBot:
    # Carol may approve restarts, but she is not in the group DM.
    policy = write_policy(
        tmp_path / "policy.toml", '[tools.restart_service]\napprovers = ["U0BOB", "U0CAROL"]\n'
    )
    bot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    return bot


async def test_a_follow_up_in_a_group_dm_thread_needs_no_mention(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    await started(start_bot, slack, tmp_path)
    asked = await slack.post_message(
        channel=GROUP_DM, user="U0ALICE", text="<@U0SIGNOFF> status of api"
    )
    await slack.wait_for_message(
        channel=GROUP_DM, thread_ts=asked, from_bot=True, text_contains="service=api,"
    )
    await slack.post_message(channel=GROUP_DM, user="U0BOB", text="status of db", thread_ts=asked)
    await slack.wait_for_message(
        channel=GROUP_DM, thread_ts=asked, from_bot=True, text_contains="service=db,"
    )
    # A message outside any thread signoff is in stays the people's own.
    chat = await slack.post_message(channel=GROUP_DM, user="U0BOB", text="status of web")
    await slack.post_message(
        channel=GROUP_DM, user="U0ALICE", text="<@U0SIGNOFF> status of worker", thread_ts=asked
    )
    await slack.wait_for_message(
        channel=GROUP_DM, thread_ts=asked, from_bot=True, text_contains="service=worker,"
    )
    assert slack.thread(channel=GROUP_DM, ts=chat)[1:] == []


async def test_a_group_dms_sessions_exist_only_for_its_members(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    bot = await started(start_bot, slack, tmp_path)
    asked = await slack.post_message(
        channel=GROUP_DM, user="U0ALICE", text="<@U0SIGNOFF> restart api please"
    )
    card = await slack.wait_for_message(
        channel=GROUP_DM, thread_ts=asked, from_bot=True, text_contains=CARD_TITLE, timeout=10
    )
    approval = approval_id_of(card)
    await bot.engine.idle()
    (session,) = lineage(settings.home, asked, channel=GROUP_DM)

    # Carol and Dave are not in it: its session is as unknown to them as a made-up id.
    for user, channel in (("U0CAROL", OPS), ("U0DAVE", "C0GENERAL")):
        told = await answer_to(slack, user, channel, f"trace {session}")
        assert told == f"No session {session}."
        for verb in ("sessions", "pending", "trace"):
            told = await answer_to(slack, user, channel, verb)
            assert session not in told and approval not in told and GROUP_DM not in told
    # Its members are told where it is, and read it there.
    told = await answer_to(slack, "U0BOB", OPS, f"trace {session}")
    assert told == f"`{session}` belongs to <#{GROUP_DM}>; run the command there."
    assert session in await answer_to(slack, "U0BOB", GROUP_DM, "sessions")
    assert "restart_service" in await answer_to(slack, "U0BOB", GROUP_DM, "trace")
    assert approval in await answer_to(slack, "U0BOB", OPS, "pending")
    assert slack.files() == []


def _click(user: str, approval: str, card: dict[str, Any], action: str) -> dict[str, Any]:
    """A button of the card, as a ``block_actions`` payload from its message would be."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": T},
        "api_app_id": "A0SIGNOFF",
        "token": "legacy",
        "team": {"id": T, "domain": "localslack"},
        "enterprise": None,
        "is_enterprise_install": False,
        "trigger_id": "1111.2222.forged",
        "container": {
            "type": "message",
            "message_ts": card["ts"],
            "channel_id": GROUP_DM,
            "is_ephemeral": False,
            "thread_ts": card.get("thread_ts"),
        },
        "channel": {"id": GROUP_DM, "name": "mpdm-alice--bob--signoff-1"},
        "message": card,
        "actions": [
            {
                "action_id": action,
                "block_id": card["blocks"][-1]["block_id"],
                "type": "button",
                "value": approval,
            }
        ],
    }


async def test_an_approver_outside_a_group_dm_cannot_decide_its_card(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    """Slack shows the card only to the group DM's members; a click on it from anyone else
    (a forged payload, or a client still showing it to someone since removed) decides
    nothing, even from an approver the policy names."""
    bot = await start_bot_and_ask(slack, start_bot, tmp_path)
    card = await slack.wait_for_message(
        channel=GROUP_DM, from_bot=True, text_contains=CARD_TITLE, timeout=10
    )
    approval = approval_id_of(card)

    def answered(times: int) -> Callable[[], bool]:
        # Told ephemerally in the card's thread (which Slack refuses: she is not in it).
        def done() -> bool:
            told = [c for c in slack.calls("chat.postEphemeral") if c.args.get("user") == "U0CAROL"]
            return len(told) >= times or decision(settings.home, approval) is not None

        return done

    # Deny too: it would open its reason form for her, and a submission deny her way.
    for times, action in enumerate((APPROVE, DENY, EDIT), start=1):
        forged = _click("U0CAROL", approval, card, action)
        await slack.wait_for_ack(
            (await slack.send_envelope(type="interactive", payload=forged)).envelope_id
        )
        await until(answered(times), what="Carol told, or the request decided")
    await bot.engine.idle()
    assert slack.calls("views.open") == []  # no deny or edit form opened for her
    assert decision(settings.home, approval) is None
    assert restarts(settings.home) == 0
    assert "Approved" not in str(slack.message(channel=GROUP_DM, ts=card["ts"]))

    # Bob, who is in it, still decides it from the card.
    await slack.click_button(channel=GROUP_DM, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: restarts(settings.home) == 1, what="the approved restart")


async def start_bot_and_ask(slack: LocalSlack, start_bot: BotFactory, tmp_path: Path) -> SignoffBot:
    bot = await started(start_bot, slack, tmp_path)
    await slack.post_message(
        channel=GROUP_DM, user="U0ALICE", text="<@U0SIGNOFF> restart api please"
    )
    return bot
