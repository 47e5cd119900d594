"""What traces say about a parked session, and what a gated call records at the gate.

A session that parked stays ``awaiting_approval`` for good (states are forward-only and
final); ``/signoff trace``, ``signoff trace`` and the dev trace pages say what became of it:
"awaiting_approval → decided: approved by U0BOB, continued in sess_…".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from engine_support import THREAD, ask_and_edit, chain, message, transcript

from agent_core.messages import ToolResultMessage
from agent_core.surface import Delivered, DeliveryError, RecordingSurface
from approvals import ApprovalRequest, Policy, PolicyRule
from bot.dev_pages import DevPages
from bot.trace_view import render_history, what_became
from sessions import FixedClock, Home, OutboxEntry, SessionState, ThreadKey

DM = ThreadKey(team="T0LOCAL", channel="D0ALICE", thread_ts="1700000000.000100")


async def park(engine: Any, home: Home, thread: ThreadKey = THREAD) -> str:
    await engine.ingest(message("<@U0SIGNOFF> restart api", ts=thread.thread_ts, thread=thread))
    await engine.idle()
    [parked] = chain(home, thread)
    assert parked.state is SessionState.AWAITING_APPROVAL
    return str(parked.id)


async def test_a_decided_parent_says_what_became_of_it(make_engine: Any, home: Home) -> None:
    engine = await make_engine()
    parent = await park(engine, home)
    waiting = (await engine.history(parent)).sessions[0]
    assert what_became(waiting) == "awaiting_approval (no decision yet)"
    [capsule] = [a.capsule for a in waiting.approvals]
    # What the approver is shown is kept with the request.
    assert capsule.request_text == "<@U0SIGNOFF> restart api"
    assert capsule.tool_description.startswith("Restart every replica of a service")
    assert capsule.card_channel == ""

    await engine.decide(capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    first, child = (await engine.history(parent)).sessions
    assert first.record.state is SessionState.AWAITING_APPROVAL  # final, as designed
    assert first.continued_in == child.record.id
    said = f"awaiting_approval → decided: approved by U0BOB, continued in {child.record.id}"
    assert what_became(first) == said
    assert what_became(first, who=lambda ids: "@bob") == said.replace("U0BOB", "@bob")
    assert what_became(child) == "completed"
    text = render_history(await engine.history(parent))
    assert f"{parent}  {said}" in text
    assert f"(told, told in {child.record.id})" in text


async def test_an_expired_request_says_nobody_decided(
    make_engine: Any, home: Home, clock: FixedClock
) -> None:
    engine = await make_engine()
    parent = await park(engine, home)
    clock.advance(timedelta(days=2))
    assert await engine.sweep() == 1
    await engine.idle()
    first, child = (await engine.history(parent)).sessions
    assert what_became(first) == (
        f"awaiting_approval → decided: expired: nobody decided in time, "
        f"continued in {child.record.id}"
    )


async def test_in_a_dm_without_an_approvals_channel_nothing_is_parked(
    make_engine: Any, home: Home, surface: RecordingSurface
) -> None:
    engine = await make_engine()
    await engine.ingest(message("restart api", ts=DM.thread_ts, thread=DM))
    await engine.idle()
    [session] = chain(home, DM)
    assert session.state is SessionState.COMPLETED
    [result] = [m for m in transcript(home, session.id) if isinstance(m, ToolResultMessage)]
    assert result.status == "refused"
    assert "cannot be asked in a direct message" in result.content
    assert "SIGNOFF_APPROVALS_CHANNEL" in result.content
    assert surface.cards == []
    assert not list(home.pointers_dir.glob("*/appr_*"))


async def test_in_a_dm_the_card_goes_to_the_approvals_channel(
    make_engine: Any, home: Home, surface: RecordingSurface
) -> None:
    engine = await make_engine(approvals_channel="C0APPROVALS")
    parent = await park(engine, home, DM)
    [state] = (await engine.history(parent)).sessions[0].approvals
    assert state.capsule.card_channel == "C0APPROVALS"
    assert [c.id for c in surface.cards] == [state.capsule.id]
    # Its notes go to the card's own thread, in the approvals channel.
    card = ApprovalRequest.open(home, state.capsule.id).card()
    assert card is not None and card.channel == "C0APPROVALS"
    where = engine.card_thread(state.capsule)
    assert (where.channel, where.thread_ts) == ("C0APPROVALS", card.ts)
    [in_thread] = [
        a.capsule for a in (await engine.history(await park(engine, home))).sessions[0].approvals
    ]
    assert engine.card_thread(in_thread) == THREAD


async def test_the_dev_pages_link_a_card_to_its_request_wherever_it_is(
    make_engine: Any, home: Home
) -> None:
    engine = await make_engine(approvals_channel="C0APPROVALS")
    parent = await park(engine, home, DM)
    [state] = (await engine.history(parent)).sessions[0].approvals
    approval = state.capsule.id
    card = ApprovalRequest.open(home, approval).card()
    assert card is not None
    await engine.decide(approval, user="U0BOB", approve=True)
    await engine.idle()
    pages = DevPages(home, team="T0LOCAL", people={"U0BOB": "bob", "U0ALICE": "alice"})
    pages.engine = engine
    app = web.Application()
    app.add_routes(pages.routes())
    async with TestClient(TestServer(app)) as client:
        # The card is a top-level message in the approvals channel: no session lives there.
        link = f"/signoff/thread?channel=C0APPROVALS&thread_ts={card.ts}&ts={card.ts}"
        response = await client.get(link, allow_redirects=False)
        assert response.status == 302
        assert response.headers["Location"] == (
            f"/signoff/trace/{parent}?approval={approval}#{approval}"
        )
        page = await (await client.get(response.headers["Location"])).text()
    child = (await engine.history(parent)).sessions[1].record.id
    assert "awaiting_approval</span><span class='became'> → decided: approved by @bob" in page
    assert f"continued in <a href='#{child}'>{child}</a>" in page


async def test_the_dev_overview_links_a_pending_request_to_its_card_wherever_it_is(
    make_engine: Any, home: Home
) -> None:
    """A request asked in a direct message has its card in the approvals channel: the
    overview's "card" link opened the asking DM instead, where the card is not (and which
    nobody but the asker can open)."""
    engine = await make_engine(approvals_channel="C0APPROVALS")
    await park(engine, home, DM)
    await park(engine, home)
    pages = DevPages(home, team="T0LOCAL", people={"U0ALICE": "alice"})
    pages.engine = engine
    app = web.Application()
    app.add_routes(pages.routes())
    async with TestClient(TestServer(app)) as client:
        page = await (await client.get("/signoff/")).text()
    routed, in_thread = sorted(await engine.waiting(), key=lambda w: w.capsule.thread != DM)
    card = ApprovalRequest.open(home, routed.capsule.id).card()
    assert card is not None and card.channel == "C0APPROVALS"
    assert f'<a href="/ui/#c=C0APPROVALS&t={card.ts}">card</a>' in page
    assert f'<a href="/ui/#c={DM.channel}&t={DM.thread_ts}">card</a>' not in page
    # A card posted in the asking thread is found there, as before.
    ops = in_thread.capsule.thread
    assert f'<a href="/ui/#c={ops.channel}&t={ops.thread_ts}">card</a>' in page


async def test_the_dev_overview_shows_the_call_a_pending_request_now_stands_for(
    make_engine: Any, home: Home
) -> None:
    rule = PolicyRule(quorum=2, approver_users=("U0BOB", "U0CAROL"))
    engine = await make_engine(policy=Policy(tools={"scale_service": rule}))
    await ask_and_edit(engine)
    (waiting,) = await engine.waiting()  # 1 of 2: still waiting
    assert waiting.arguments == {"service": "api", "replicas": 8}
    assert waiting.voters == ("U0CAROL",)
    pages = DevPages(home, team="T0LOCAL", people={"U0CAROL": "carol", "U0ALICE": "alice"})
    pages.engine = engine
    app = web.Application()
    app.add_routes(pages.routes())
    async with TestClient(TestServer(app)) as client:
        page = await (await client.get("/signoff/")).text()
    assert "&quot;replicas&quot;: 8" in page and "&quot;replicas&quot;: 12" not in page


class RefusingReplies(RecordingSurface):
    """Cards go out; every reply is refused for good, with a reason that is not HTML-safe."""

    async def post_reply(self, entry: OutboxEntry, *, check_first: bool) -> Delivered:
        raise DeliveryError("is_archived <b>&", permanent=True)


async def test_the_dev_trace_timeline_shows_what_reached_slack(
    make_engine: Any, home: Home
) -> None:
    """Its "As text" section had the delivery lines (📤 … shown, ✖ reply not posted); the
    timeline above it, what people look at, had none."""
    engine = await make_engine(surface=RefusingReplies())
    parent = await park(engine, home)
    [state] = (await engine.history(parent)).sessions[0].approvals
    approval = state.capsule.id
    await engine.decide(approval, user="U0BOB", approve=True)
    await engine.idle()
    pages = DevPages(home, team="T0LOCAL", people={"U0BOB": "bob"})
    pages.engine = engine
    app = web.Application()
    app.add_routes(pages.routes())
    async with TestClient(TestServer(app)) as client:
        page = await (await client.get(f"/signoff/trace/{parent}")).text()
    timeline, _, as_text = page.partition("<summary>As text")
    shown = f"📤 card {approval} (requested) shown"
    refused = "✖ reply not posted: is_archived &lt;b&gt;&amp;"
    assert shown in as_text and refused in as_text
    assert shown in timeline and refused in timeline
    assert "<b>&" not in page
