"""A card, the Home tab and the dev overview name who may decide under both rules (the one
the request was captured under and the one in force, as a click is judged), not the
captured rule alone: a policy that named approvers after a request was asked while anyone
could decide left its card saying "anyone", and whoever believed it was refused."""

from __future__ import annotations

import json

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from engine_support import EngineFactory, message
from test_cards_content import NOW, texts

from approvals import Policy, PolicyRule
from bot.cards import card_blocks
from bot.dev_pages import DevPages
from bot.home import HomeContent, home_view
from sessions import Home

OPEN = Policy(default=PolicyRule())
BOB = Policy(default=PolicyRule(approver_users=("U0BOB",)))
CAROL = Policy(default=PolicyRule(approver_users=("U0CAROL",)))
BOB_OR_SELF = Policy(default=PolicyRule(approver_users=("U0BOB",), allow_self_approval=True))


async def _asked_then(make_engine: EngineFactory, home: Home, captured: Policy, now: Policy) -> str:
    engine = await make_engine(policy=captured)
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    await engine.close()
    again = await make_engine(policy=now)
    (waiting,) = await again.waiting()
    assert waiting.view is not None
    return texts(card_blocks(waiting.view, bot_user="U0SIGNOFF"))


@pytest.mark.parametrize(
    ("captured", "now", "approvers"),
    [
        (OPEN, BOB, "<@U0BOB>, not the requester"),  # the policy named approvers since
        (BOB, OPEN, "<@U0BOB>, not the requester"),  # the captured rule still holds
        (BOB, BOB_OR_SELF, "<@U0BOB>, not the requester"),  # both must allow self-approval
        (BOB_OR_SELF, BOB_OR_SELF, "<@U0BOB>\n"),
        (OPEN, OPEN, "anyone in signoff's organization, not the requester"),
        (BOB, CAROL, "nobody both rules allow, not the requester"),  # only an escalation
    ],
)
async def test_a_card_names_who_may_decide_under_both_rules(
    make_engine: EngineFactory, home: Home, captured: Policy, now: Policy, approvers: str
) -> None:
    shown = await _asked_then(make_engine, home, captured, now)
    assert f"*Approvers*\n{approvers}" in shown + "\n"


async def test_the_home_tab_says_whom_a_request_waits_for_under_both_rules(
    make_engine: EngineFactory, home: Home
) -> None:
    await _asked_then(make_engine, home, OPEN, BOB)
    engine = await make_engine(policy=BOB)
    mine = tuple(await engine.requests_of("U0ALICE"))
    content = HomeContent(user="U0ALICE", waiting=(), mine=mine, decided=(), now=NOW)
    shown = json.dumps(home_view(content)["blocks"])
    assert "waiting for <@U0BOB>" in shown and "waiting for anyone" not in shown


async def test_the_dev_overview_names_who_may_decide_under_both_rules(
    make_engine: EngineFactory, home: Home
) -> None:
    await _asked_then(make_engine, home, OPEN, BOB)
    pages = DevPages(home, team="T0LOCAL", people={"U0ALICE": "alice"})
    pages.engine = await make_engine(policy=BOB)
    app = web.Application()
    app.add_routes(pages.routes())
    async with TestClient(TestServer(app)) as client:
        page = await (await client.get("/signoff/")).text()
    assert "<td>U0BOB</td>" in page and "anyone but the requester" not in page
