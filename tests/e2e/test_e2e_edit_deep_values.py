"""An edit's JSON field nested deeper than a model's arguments may be, or holding NaN or
Infinity (which no model's arguments may hold): a problem on its field.

A model's arguments may nest 64 levels (``agent_core.parsing``); a JSON field of the Edit
& approve modal took any depth its 3,000 characters hold. At about 1,000 levels the
approver's form closed on "something went wrong" (json's recursion limit); from about 200
the edit was written and could not be read back, so the request could never be opened,
decided or run again; past 300 it could not be written at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    approvals_dir,
    mention,
    until,
    wait_card,
    write_policy,
)

from approvals import ApprovalRequest
from bot.card_governance import EDIT
from bot.config import Settings
from bot.edit_modal import EDIT_MODAL
from localslack import LocalSlack
from sessions import FixedClock, Home

if TYPE_CHECKING:
    from conftest import BotFactory

LABEL_TOOL = '''
from typing import Any

from agent_core.tools import tool


@tool(requires_human_approval=True)
def label_nodes(labels: dict[str, Any]) -> str:
    """Set labels on the nodes.

    Args:
        labels: the labels to set
    """
    return "labelled"


TOOLS = [label_nodes]
'''

POLICY = '[default]\napprovers = ["U0BOB"]\n'


def nested(depth: int, *, opener: str = '{"a":', closer: str = "}") -> str:
    return opener * depth + "1" + closer * depth


TOO_DEEP = "nested too deeply"
# Python's json reads these, a record writes them as null: the edit was written, no longer
# hashed to what it said, and the request could never be opened, decided or run again.
NOT_FINITE = "finite numbers only"


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        (nested(250), TOO_DEEP),  # written, then unreadable
        ('{"a":' + nested(1400, opener="[", closer="]") + "}", TOO_DEEP),  # json's limit
        ('{"w": NaN}', NOT_FINITE),
        ('{"w": [1, -Infinity]}', NOT_FINITE),
        ('{"w": 1e999}', NOT_FINITE),
    ],
    ids=["readable-by-json-only", "past-the-recursion-limit", "nan", "infinity", "overflow"],
)
async def test_an_edit_nested_too_deep_or_not_finite_is_a_problem_on_its_field_and_nothing_is_written(
    slack: LocalSlack,
    start_bot: BotFactory,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    e2e_clock: FixedClock,
    typed: str,
    problem: str,
) -> None:
    assert len(typed) <= 3000  # what Slack's input holds
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "label_tools_deep.py").write_text(LABEL_TOOL)
    monkeypatch.syspath_prepend(str(tools))
    policy = write_policy(tmp_path / "policy.toml", POLICY)
    bot = await start_bot(policy_path=policy, tool_modules=("label_tools_deep",))
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, 'call label_nodes {"labels": {"team": "db"}}')
    card = await wait_card(slack, thread)
    approval = approval_id_of(card)

    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=EDIT)
    await until(lambda: slack.open_views(user="U0BOB"), what="Bob's edit modal")
    await slack.submit_view(
        user="U0BOB", callback_id=EDIT_MODAL, values={"arg:labels": {"value": typed}}
    )

    def problems() -> list[dict[str, Any]]:
        return [v for v in slack.open_views(user="U0BOB") if v["errors"]]

    (still,) = await until(problems, what="the problem shown on the field")
    assert set(still["errors"]) == {"arg:labels"}
    assert problem in still["errors"]["arg:labels"]
    await bot.engine.idle()
    assert not list(approvals_dir(settings.home, approval).glob("*.edit-*"))
    # The request is whole: it still opens, and stands for the arguments as asked.
    request = ApprovalRequest.open(Home(settings.home), approval, clock=e2e_clock)
    assert request.current().arguments == {"labels": {"team": "db"}}
    assert request.decision() is None
