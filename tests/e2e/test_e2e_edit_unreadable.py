"""An edit submitted for a request that can no longer be read is answered, not dropped.

The modal closed without a word when the request failed its integrity check between the
Edit click and the submission: the approver believed the edit was recorded.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from signoff_e2e_kit import OPS, approval_id_of, approvals_dir, mention, until, wait_card

from bot.card_governance import EDIT
from bot.config import Settings
from bot.edit_modal import EDIT_MODAL
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory


async def test_an_edit_of_a_request_tampered_since_the_modal_opened_says_so_on_the_form(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=EDIT)
    await until(lambda: slack.open_views(user="U0BOB"), what="Bob's edit modal")

    capsule = approvals_dir(settings.home, approval) / f"{approval}.json"
    record = json.loads(capsule.read_text())
    record["arguments"] = {"service": "db"}  # no longer what was asked, or sealed
    capsule.write_text(json.dumps(record))
    await slack.submit_view(
        user="U0BOB", callback_id=EDIT_MODAL, values={"arg:service": {"value": "web"}}
    )

    def problems() -> list[dict[str, Any]]:
        return [v for v in slack.open_views(user="U0BOB") if v["errors"]]

    (still,) = await until(problems, what="the modal kept open with the reason")
    assert "cannot be decided" in " ".join(still["errors"].values())
    await bot.engine.idle()
    assert not list(approvals_dir(settings.home, approval).glob("*.edit-*"))
