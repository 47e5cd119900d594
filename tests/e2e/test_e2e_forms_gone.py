"""A form submission that records nothing says so in the form.

Slack shows nothing of a ``view_submission`` but what its ack says: acked empty, the modal
closes as if the decision was taken. A submission of a form signoff did not open for that
person (a forged or mistaken view, one whose record is gone), of one submitted already (a
double send: the first counts), or of one whose request cannot be found, was acked empty
with only a log line: the person believed they had denied or approved. Now the ack
replaces the form with a notice (``response_action: update``) saying nothing was recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    decision,
    ephemeral,
    ephemeral_texts,
    existing_decision,
    mention,
    pointer_path,
    until,
    wait_card,
    write_policy,
)

from bot.app import SignoffBot
from bot.cards import APPROVE, DENY
from bot.config import Settings
from bot.edit_modal import EDIT_MODAL
from bot.reason_modal import APPROVE_MODAL, DENY_MODAL
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory


def submission(view: dict[str, Any], *, user: str, reason: str) -> dict[str, Any]:
    """A view_submission shaped as Slack sends one (docs: view_submission payload)."""
    state = {"values": {"reason": {"reason": {"type": "plain_text_input", "value": reason}}}}
    return {
        "type": "view_submission",
        "team": {"id": "T0LOCAL", "domain": "local"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0LOCAL"},
        "api_app_id": "A0SIGNOFF",
        "token": "legacy",
        "trigger_id": "1111.2222.abc",
        "view": {**{k: v for k, v in view.items() if k not in ("user", "errors")}, "state": state},
        "response_urls": [],
        "is_enterprise_install": False,
    }


async def answer_to(slack: LocalSlack, payload: dict[str, Any]) -> str:
    """The ack's answer to ``payload``: the text of the view it puts in the form."""
    sent = await slack.send_envelope(type="interactive", payload=payload)
    acked = await slack.wait_for_ack(sent.envelope_id, timeout=3)  # Slack's 3 s
    assert not acked.timed_out
    answer = acked.ack_payload or {}
    assert answer.get("response_action") == "update", answer
    return " ".join(str(b["text"]["text"]) for b in answer["view"]["blocks"])


async def deny_form(slack: LocalSlack) -> tuple[dict[str, Any], str]:
    """Bob's Deny form, open on a fresh request: (the view, the approval id)."""
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=DENY)
    [view] = await until(lambda: slack.open_views(user="U0BOB"), what="the deny modal")
    return view, approval_id_of(card)


async def test_a_second_submission_of_a_form_says_the_first_counted(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    view, approval = await deny_form(slack)
    await slack.submit_view(user="U0BOB", values={"reason": {"reason": "not now"}})
    await until(lambda: decision(settings.home, approval), what="the denial")
    await bot.engine.idle()

    # The same view sent again (a client's double send), with another reason.
    said = await answer_to(slack, submission(view, user="U0BOB", reason="never"))
    assert "submitted already" in said and "nothing" in said, said
    assert "denied by <@U0BOB>" in said, said
    await bot.engine.idle()
    made = existing_decision(settings.home, approval)
    assert (made["deciders"], made["reason"]) == (["U0BOB"], "not now")


@pytest.mark.parametrize("callback_id", [DENY_MODAL, APPROVE_MODAL, EDIT_MODAL])
async def test_a_form_signoff_never_opened_says_nothing_was_recorded(
    slack: LocalSlack, bot: SignoffBot, settings: Settings, callback_id: str
) -> None:
    view, approval = await deny_form(slack)
    never = {"id": "V0NEVEROPENED", "external_id": ""}  # the form key is what names it
    for user, forged in [
        ("U0BOB", {**never, "private_metadata": approval}),
        ("U0BOB", {**never, "private_metadata": "appr_0000000000000000"}),  # no such request
        ("U0BOB", {**never, "external_id": "not a key"}),
        ("U0CAROL", {}),  # Bob's form, sent as Carol's
    ]:
        payload = submission({**view, "callback_id": callback_id, **forged}, user=user, reason="no")
        said = await answer_to(slack, payload)
        assert "no longer current" in said and "nothing was recorded" in said, said
    await bot.engine.idle()
    assert decision(settings.home, approval) is None


async def test_a_form_whose_request_cannot_be_found_says_nothing_was_recorded(
    slack: LocalSlack, bot: SignoffBot, settings: Settings
) -> None:
    view, approval = await deny_form(slack)
    pointer = pointer_path(settings.home, approval)
    kept = pointer.read_bytes()
    pointer.unlink()  # its request cannot be found (for a moment: a restore under way)

    said = await answer_to(slack, submission(view, user="U0BOB", reason="no"))
    assert "could not be found" in said and "nothing was recorded" in said, said
    # Nothing was recorded, and the form was not used up: once the request is back, it denies.
    pointer.write_bytes(kept)
    assert decision(settings.home, approval) is None
    await slack.submit_view(user="U0BOB", values={"reason": {"reason": "not now"}})
    made = await until(lambda: decision(settings.home, approval), what="the denial")
    assert (made["deciders"], made["reason"]) == (["U0BOB"], "not now")
    await bot.engine.idle()


async def test_a_second_submission_of_a_counted_vote_says_the_first_counted(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, tmp_path: Path
) -> None:
    """Under a quorum, Bob's approval with a reason is counted (1 of 2): the same view sent
    again is not taken as a first submission (his vote is on record), and records nothing."""
    policy = write_policy(
        tmp_path / "policy.toml",
        '[tools.restart_service]\napprovers = ["U0BOB", "U0CAROL"]\n'
        "require_reason = true\nquorum = 2\n",
    )
    bot: SignoffBot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    [view] = await until(lambda: slack.open_views(user="U0BOB"), what="the approve modal")
    await slack.submit_view(user="U0BOB", values={"reason": {"reason": "looks fine"}})
    await ephemeral(slack, "U0BOB", "1 of 2")
    await bot.engine.idle()

    said = await answer_to(slack, submission(view, user="U0BOB", reason="again"))
    assert "submitted already" in said and "nothing more was recorded" in said, said
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
    votes = list(settings.home.glob(f"sessions/*/*/approvals/{approval}.votes/*.json"))
    assert [v.name for v in votes] == ["U0BOB.json"]
    assert not any("already approved" in t for t in ephemeral_texts(slack, "U0BOB"))
