"""The surfaces ``test_e2e_hostile_surfaces`` does not reach, with hostile text on each.

A tool whose description and parameter descriptions (what an MCP server or a tools module
advertises) are full of markup, asked in a direct message: its card goes to the approvals
channel, quoting the request, with a pointer in the direct message; a reminder and an
escalation in the card's thread; the edit modal (parameter hints), an edit with its
reason; the tool's output told back in the direct message; the offline model's ``help``
listing the tool; both Home tabs. Then every call the bot made is read as there: no live
broadcast, group, channel, date or link markup, and no mention of someone it does not hold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import FAST
from signoff_e2e_kit import as_in_manifest, home_of, until, write_policy
from test_e2e_dm_routed_live import APPROVALS, DM, top_level_cards
from test_e2e_hostile_surfaces import ARGUMENT, HOSTILE, LIVE, _strings

from bot.card_governance import EDIT
from bot.edit_modal import EDIT_MODAL
from localslack import LocalSlack, WorkspaceConfig
from sessions import FixedClock

if TYPE_CHECKING:
    from conftest import BotFactory

POLICY = """
[tools.hostile_op]
approvers = ["U0BOB"]
remind_after = "2h"
max_reminders = 1
escalate_after = "3h"
escalate_to = ["U0CAROL"]  # HOSTILE mentions U0DAVE: only the policy may
expires_after = "2d"
"""
# A tools module as README's "Writing a tool" describes; its words are the server's.
TOOLS = f'''
from agent_core.tools import ToolContext, tool

WORDS = {HOSTILE!r}


@tool(requires_human_approval=True)
def hostile_op(target: str, note: str, ctx: ToolContext) -> str:
    """Touch {HOSTILE}

    Args:
        target: where {HOSTILE}
        note: a note {HOSTILE}
    """
    return "touched " + target + " " + WORDS


TOOLS = [hostile_op]
'''
TYPED = ARGUMENT.replace("'", "")


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    """A workspace as the manifest grants (signoff's direct messages among it)."""
    async with LocalSlack(as_in_manifest(WorkspaceConfig(seed=17, timing=FAST))) as server:
        yield server


def _texts(slack: LocalSlack, channel: str, ts: str) -> list[str]:
    return [str(m.get("text")) for m in slack.thread(channel=channel, ts=ts) if m.get("bot_id")]


async def test_no_route_carries_live_markup_from_people_tools_or_models(
    slack: LocalSlack,
    start_bot: BotFactory,
    e2e_clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "hostiletools.py").write_text(TOOLS)
    monkeypatch.syspath_prepend(str(tools))
    policy = write_policy(tmp_path / "policy.toml", POLICY)
    bot = await start_bot(
        approvals_channel=APPROVALS,
        policy_path=policy,
        tool_modules=("hostiletools",),
        demo_tools=False,
    )
    await slack.wait_for_sockets(1, timeout=5)
    ask = f"call hostile_op target='{TYPED}' note='{TYPED}'"
    ts = await slack.post_message(channel=DM, user="U0ALICE", text=ask)
    [card] = await until(lambda: top_level_cards(slack), what="the card", timeout=30)
    await until(lambda: any("I asked" in t for t in _texts(slack, DM, ts)), what="pointer")
    await bot.engine.idle()

    for hours in (2, 3):  # the reminder, then the escalation, in the card's thread
        e2e_clock.advance(timedelta(hours=1 if hours == 3 else 2, minutes=1))
        await bot.engine.sweep()
        await bot.engine.idle()
    await until(
        lambda: sum(t.startswith(("⏰", "⏫")) for t in _texts(slack, APPROVALS, card["ts"])) >= 2,
        what="the reminder and the escalation",
    )

    await slack.click_button(channel=APPROVALS, ts=card["ts"], user="U0BOB", action_id=EDIT)
    await until(lambda: slack.open_views(user="U0BOB"), what="the edit modal")
    await slack.submit_view(
        user="U0BOB",
        callback_id=EDIT_MODAL,
        values={
            "arg:target": {"value": f"t {HOSTILE}"},
            "arg:note": {"value": f"n {HOSTILE}"},
            "reason": {"reason": f"r {HOSTILE}"},
        },
    )
    await until(
        lambda: any("touched" in t for t in _texts(slack, DM, ts)), what="the output", timeout=30
    )
    help_ts = await slack.post_message(channel=DM, user="U0ALICE", text="help")
    await until(lambda: any("hostile_op" in t for t in _texts(slack, DM, help_ts)), what="help")
    await bot.engine.idle()
    for user in ("U0ALICE", "U0BOB"):
        await slack.open_app_home(user=user)
        await home_of(slack, user, has="hostile_op")

    sent = [(c.method, c.args) for c in slack.calls() if c.method != "agents.sessions.setStatus"]
    assert {"views.open", "views.publish", "chat.update"} <= {method for method, _ in sent}
    shown: list[str] = []
    for method, args in sent:
        for text, parsed in _strings(args):
            live = [markup for markup in LIVE if markup in text] if parsed else []
            assert not live, (method, live, text[:300])
            assert "&amp;lt;" not in text and "&amp;gt;" not in text, (method, text[:300])
            shown += [text] if parsed else []
    # Each hostile source did reach Slack, shown as written.
    for where in ("Touch &lt;!here&gt;", "touched t &lt;!here&gt;", "n &lt;!here&gt;"):
        assert any(where in text for text in shown), where
