"""An Edit & approve form sent back with a field's state in a shape Slack never sends.

Slack sends a select's ``selected_option`` as an object or ``null``. A forged submission
of a form that is open could send a string or a list there: the handler called ``.get`` on
it and raised, so the form got no answer (Slack's "We had some trouble connecting") and
the log a traceback. Such a field reads as nothing chosen, a problem on its field.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from signoff_e2e_kit import OPS, approval_id_of, decision, mention, until, wait_card, write_policy

from bot.card_governance import EDIT
from bot.config import Settings
from bot.edit_modal import EDIT_MODAL
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

POLICY = '[tools.scale_service]\napprovers = ["U0BOB"]\n'


def submission(view: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """Bob's view_submission of ``view`` (docs: view_submission payload), ``state`` as sent."""
    return {
        "type": "view_submission",
        "team": {"id": "T0LOCAL", "domain": "local"},
        "user": {"id": "U0BOB", "username": "u0bob", "name": "u0bob", "team_id": "T0LOCAL"},
        "api_app_id": "A0SIGNOFF",
        "token": "legacy",
        "trigger_id": "1111.2222.abc",
        "view": {
            **{k: v for k, v in view.items() if k not in ("user", "errors")},
            "state": {"values": state},
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }


@pytest.mark.parametrize("chosen", ["2", ["2"], 2, True])
async def test_a_select_state_slack_never_sends_is_a_problem_on_its_field(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    chosen: object,
) -> None:
    bot = await start_bot(policy_path=write_policy(tmp_path / "policy.toml", POLICY))
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "scale api to 12")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=EDIT)
    (view,) = await until(lambda: slack.open_views(user="U0BOB"), what="Bob's edit modal")
    assert view["callback_id"] == EDIT_MODAL

    state = {
        "arg:service": {"value": {"type": "plain_text_input", "value": "api"}},
        "arg:replicas": {"value": {"type": "static_select", "selected_option": chosen}},
    }
    sent = await slack.send_envelope(
        type="interactive", payload=submission(view, state), accepts_response_payload=True
    )
    acked = await slack.wait_for_ack(sent.envelope_id, timeout=3)  # Slack's 3 s
    assert not acked.timed_out
    answer = acked.ack_payload or {}
    assert answer.get("response_action") == "errors", answer
    assert "arg:replicas" in answer["errors"], answer
    await bot.engine.idle()
    assert decision(settings.home, approval) is None
