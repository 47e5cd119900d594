"""Under an ``anyone`` rule only the organization signoff is installed in decides.

#ops is shared (Slack Connect) with a guest from another organization: they see the card
and its buttons, and their click's ``user.team_id`` is their own team. "Anyone" is anyone
of the installation's organization; naming the guest's user id opens a tool to them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import FAST, restart
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    as_in_manifest,
    bot_reply,
    decision,
    ephemeral,
    ephemeral_texts,
    existing_decision,
    form_says,
    has_buttons,
    home_of,
    home_texts,
    mention,
    restarts,
    scales,
    until,
    wait_card,
    with_guest_in_ops,
    write_policy,
)

from bot.card_governance import EDIT
from bot.cards import APPROVE, DENY
from bot.config import Settings
from bot.edit_modal import EDIT_MODAL
from bot.reason_modal import APPROVE_MODAL, DENY_MODAL
from localslack import LocalSlack, WorkspaceConfig
from localslack.config import UserSpec

if TYPE_CHECKING:
    from conftest import BotFactory

GUEST = UserSpec(id="U0GUEST", name="gina", team_id="T0PARTNER")


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    """The suite's workspace, its #ops shared with a guest from another organization."""
    base = as_in_manifest(WorkspaceConfig(seed=7, timing=FAST))  # with its Home tab
    async with LocalSlack(with_guest_in_ops(base, GUEST)) as server:
        yield server


async def _asked(
    slack: LocalSlack, start_bot: BotFactory, policy: Path | None
) -> tuple[str, dict[str, Any]]:
    await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    return thread, await wait_card(slack, thread)


@pytest.mark.parametrize("policy", ["none", "anyone"])
async def test_a_guest_of_another_organization_may_not_decide_under_anyone(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path, policy: str
) -> None:
    text = '[default]\napprovers = ["anyone"]\n'
    path = write_policy(tmp_path / "policy.toml", text) if policy == "anyone" else None
    thread, card = await _asked(slack, start_bot, path)
    approval = approval_id_of(card)

    await slack.click_button(channel=OPS, ts=card["ts"], user=GUEST.id, action_id=APPROVE)
    told = await ephemeral(slack, GUEST.id, "another organization")
    assert told["text"].startswith("You may not decide this request")
    # A deny from the guest is refused the same way, and opens no modal.
    await slack.click_button(channel=OPS, ts=card["ts"], user=GUEST.id, action_id=DENY)
    await until(lambda: len(ephemeral_texts(slack, GUEST.id)) == 2, what="a second refusal")
    assert "another organization" in ephemeral_texts(slack, GUEST.id)[1]
    assert slack.calls("views.open") == []
    assert decision(settings.home, approval) is None
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))
    assert restarts(settings.home) == 0

    # A colleague of the installation's own organization still may.
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    assert existing_decision(settings.home, approval)["deciders"] == ["U0BOB"]
    assert restarts(settings.home) == 1


async def test_a_guest_named_by_the_policy_may_approve(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    named = write_policy(tmp_path / "policy.toml", f'[default]\napprovers = ["{GUEST.id}"]\n')
    thread, card = await _asked(slack, start_bot, named)
    await slack.click_button(channel=OPS, ts=card["ts"], user=GUEST.id, action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    assert existing_decision(settings.home, approval_id_of(card))["deciders"] == [GUEST.id]
    assert restarts(settings.home) == 1


@pytest.mark.parametrize(("action", "callback"), [(APPROVE, APPROVE_MODAL), (DENY, DENY_MODAL)])
async def test_a_guests_form_is_refused_in_the_form_once_the_policy_no_longer_names_them(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    action: str,
    callback: str,
) -> None:
    """The guest's form was opened while the policy named them; signoff restarts under
    ``anyone`` alone before they submit it: the submission is checked as from their own
    organization, refused in the form, and records nothing; Bob's form still decides."""
    rule = "require_reason = true\n"
    named = write_policy(
        tmp_path / "named.toml", f'[default]\napprovers = ["{GUEST.id}", "U0BOB"]\n{rule}'
    )
    anyone = write_policy(tmp_path / "anyone.toml", f'[default]\napprovers = ["anyone"]\n{rule}')
    bot = await start_bot(policy_path=named)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await slack.click_button(channel=OPS, ts=card["ts"], user=GUEST.id, action_id=action)
    await until(lambda: slack.open_views(user=GUEST.id), what="the guest's form")
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=action)
    await until(lambda: slack.open_views(user="U0BOB"), what="Bob's form")
    await restart(bot, start_bot, slack, policy_path=anyone)
    reason: dict[str, dict[str, object]] = {"reason": {"reason": "api is wedged"}}

    await slack.submit_view(user=GUEST.id, callback_id=callback, values=reason)
    view = await form_says(slack, GUEST.id, "another organization")
    assert view.get("callback_id") in (None, "")  # a notice: submitting it decides nothing
    assert decision(settings.home, approval) is None
    assert has_buttons(slack.message(channel=OPS, ts=card["ts"]))

    await slack.submit_view(user="U0BOB", callback_id=callback, values=reason)
    found = await until(lambda: decision(settings.home, approval), what="Bob's decision")
    assert found["deciders"] == ["U0BOB"]
    # His form closed: the card says it.
    await until(lambda: not slack.open_views(user="U0BOB"), what="Bob's form to close")


async def test_the_card_and_the_home_tab_say_whose_anyone_it_is(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    """A guest who sees "Approvers: anyone" on a card in a shared channel, clicks, and is
    refused as from another organization, was told something untrue: both say whose."""
    path = write_policy(tmp_path / "policy.toml", '[default]\napprovers = ["anyone"]\n')
    _, card = await _asked(slack, start_bot, path)
    fields = [f["text"] for b in card["blocks"] for f in b.get("fields") or []]
    assert "*Approvers*\nanyone in signoff's organization, not the requester" in fields

    await slack.open_app_home(user="U0ALICE")
    mine = await home_of(slack, "U0ALICE", has="Your open requests")
    assert "waiting for anyone in signoff's organization" in home_texts(mine)


async def test_a_guests_vote_stops_counting_once_a_restart_opens_the_rule_to_anyone(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    """The guest's vote counted while the policy named them; after a restart under
    ``anyone`` it is asked again, with the team it was cast from, when Bob's vote would
    complete the quorum: it no longer counts, so Bob's does not decide; Carol's does."""
    named = write_policy(
        tmp_path / "named.toml",
        f'[default]\napprovers = ["{GUEST.id}", "U0BOB", "U0CAROL"]\nquorum = 2\n',
    )
    anyone = write_policy(
        tmp_path / "anyone.toml", '[default]\napprovers = ["anyone"]\nquorum = 2\n'
    )
    bot = await start_bot(policy_path=named)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await slack.click_button(channel=OPS, ts=card["ts"], user=GUEST.id, action_id=APPROVE)
    await ephemeral(slack, GUEST.id, "1 of 2")
    await restart(bot, start_bot, slack, policy_path=anyone)

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "1 of 2")
    assert decision(settings.home, approval) is None
    assert restarts(settings.home) == 0

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0CAROL", action_id=APPROVE)
    await bot_reply(slack, thread, "restart_service` finished")
    assert existing_decision(settings.home, approval)["deciders"] == ["U0BOB", "U0CAROL"]
    assert restarts(settings.home) == 1
    # The guest's vote names their team (version 5); the installation's people's votes
    # stay as older versions read them (Bob's discounts the guest's: version 3).
    votes = {
        p.stem: json.loads(p.read_bytes())
        for p in settings.home.glob(f"sessions/*/*/approvals/{approval}.votes/*.json")
    }
    assert votes[GUEST.id]["schema_version"] == 5
    assert votes[GUEST.id]["origin"]["team"] == "T0PARTNER"
    assert (votes["U0BOB"]["schema_version"], votes["U0BOB"]["discounted"]) == (3, [GUEST.id])
    assert "origin" not in votes["U0BOB"] and "origin" not in votes["U0CAROL"]


@pytest.mark.parametrize("replicas", ["12", "6"], ids=["unchanged", "edited"])
async def test_a_guests_edit_form_stops_counting_once_a_restart_opens_the_rule_to_anyone(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path, replicas: str
) -> None:
    """As a vote does: the guest approves through the Edit & approve form while the policy
    names them (arguments unchanged: an approval; changed: an edit, its author's approval);
    after a restart under ``anyone`` Bob's approval does not complete the quorum with it."""
    named = write_policy(
        tmp_path / "named.toml",
        f'[default]\napprovers = ["{GUEST.id}", "U0BOB", "U0CAROL"]\nquorum = 2\n',
    )
    anyone = write_policy(
        tmp_path / "anyone.toml", '[default]\napprovers = ["anyone"]\nquorum = 2\n'
    )
    bot = await start_bot(policy_path=named)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "scale api to 12")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await slack.click_button(channel=OPS, ts=card["ts"], user=GUEST.id, action_id=EDIT)
    await until(lambda: slack.open_views(user=GUEST.id), what="the guest's edit form")
    await slack.submit_view(
        user=GUEST.id,
        callback_id=EDIT_MODAL,
        values={"arg:service": {"value": "api"}, "arg:replicas": {"value": replicas}},
    )
    await ephemeral(slack, GUEST.id, "1 of 2")
    bot = await restart(bot, start_bot, slack, policy_path=anyone)

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "1 of 2")
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    assert scales(settings.home) == []
    # The guest's approval names their team: an edit (version 2) or a vote (version 5).
    made = "edit-1.json" if replicas == "6" else f"votes/{GUEST.id}.json"
    [path] = settings.home.glob(f"sessions/*/*/approvals/{approval}.{made}")
    assert json.loads(path.read_bytes())["origin"]["team"] == "T0PARTNER"
