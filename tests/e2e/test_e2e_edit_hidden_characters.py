"""The Edit & approve modal never prefills a value Slack would draw as something else.

The card shows an argument holding a right-to-left override (``\\u202eipa``) as its escape,
but the modal prefilled its input with the value itself, which Slack draws as "api"; a
field left as prefilled submits its argument exactly, so an approver who fixed another
field, or none, approved and ran the call on "\\u202eipa" while reading "api". Such a value
cannot be shown in an input as it is (an escape typed there would be taken literally), so
the approver is told to approve or deny it on the card, which shows it escaped.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from signoff_e2e_kit import OPS, ephemeral_texts, mention, until, wait_card, write_policy

from bot.card_governance import EDIT
from bot.edit_modal import EDIT_MODAL
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory

POLICY = '[default]\napprovers = ["U0BOB"]\n'
CANNOT = "cannot show these arguments"


async def _card(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path, text: str
) -> dict[str, Any]:
    """The card of Alice's ``text``, which Bob may decide."""
    await start_bot(policy_path=write_policy(tmp_path / "policy.toml", POLICY))
    await slack.wait_for_sockets(1, timeout=5)
    return await wait_card(slack, await mention(slack, text), timeout=30)


@pytest.mark.parametrize(
    "arguments",
    [
        r'{"service": "\u202eipa"}',  # drawn "api"
        r'{"service": "api\u200b"}',  # a zero-width space
    ],
    ids=["override", "zero-width"],
)
async def test_a_value_drawn_as_something_else_is_not_prefilled_for_editing(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path, arguments: str
) -> None:
    card = await _card(slack, start_bot, tmp_path, f"call restart_service {arguments}")
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=EDIT)
    await until(
        lambda: slack.open_views(user="U0BOB") or ephemeral_texts(slack, "U0BOB"),
        what="Bob's edit modal, or what he is told instead",
    )
    assert slack.open_views(user="U0BOB") == [], slack.open_views(user="U0BOB")
    assert any(CANNOT in text for text in ephemeral_texts(slack, "U0BOB"))


async def test_an_edit_difference_is_drawn_as_written_not_as_formatting(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    # The difference was mrkdwn: an edit to "*web*" read `service: "api" → "web"` with
    # "web" in bold, its asterisks gone; "`x`" and "~x~" lost theirs the same way.
    card = await _card(slack, start_bot, tmp_path, "restart api")
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=EDIT)
    await until(lambda: slack.open_views(user="U0BOB"), what="Bob's edit modal")
    await slack.submit_view(
        user="U0BOB", callback_id=EDIT_MODAL, values={"arg:service": {"value": "*web* `x`"}}
    )

    def edit_text() -> str:
        message = slack.workspace.get(OPS, card["ts"]) or {}
        blocks = [b for b in message.get("blocks") or [] if b["block_id"].startswith("edit-")]
        return str(blocks[0]["text"]["text"]) if blocks else ""

    text = await until(edit_text, what="the card's edit block")
    assert '• `service: "api" → "*web* \\u0060x\\u0060"`' in text, text


PICK_TOOL = '''
from typing import Literal

from agent_core.tools import tool


@tool(requires_human_approval=True)
def pick_target(target: Literal["api", "\\u202eipa"]) -> str:
    """Point the router at a service.

    Args:
        target: where traffic goes
    """
    return "pointed"


TOOLS = [pick_target]
'''


async def test_the_modal_draws_each_option_as_the_value_it_picks(
    slack: LocalSlack,
    start_bot: BotFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A tool's own choices (an MCP server's enum) were labelled with the values
    # themselves: "\u202eipa" was a second option drawn "api", and picking it, an
    # approval of the edited call, ran the call on "\u202eipa".
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "pick_tools_hidden.py").write_text(PICK_TOOL)
    monkeypatch.syspath_prepend(str(tools))
    await start_bot(
        policy_path=write_policy(tmp_path / "policy.toml", POLICY),
        tool_modules=("pick_tools_hidden",),
    )
    await slack.wait_for_sockets(1, timeout=5)
    card = await wait_card(slack, await mention(slack, 'call pick_target {"target": "api"}'))
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=EDIT)
    (modal,) = await until(lambda: slack.open_views(user="U0BOB"), what="Bob's edit modal")
    (block,) = [b for b in modal["blocks"] if b.get("block_id") == "arg:target"]
    options = {o["value"]: o["text"]["text"] for o in block["element"]["options"]}
    assert options == {'"api"': '"api"', '"\u202eipa"': '"\\u202eipa"'}, options
