"""The Home tab's "Recently decided" tells what became of an approved call, as its card
does: ran, went stale, or refused when it was to start; never a bare "approved"."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from engine_support import THREAD, message
from test_cards_content import NOW

from approvals import Policy, PolicyRule
from bot.home import HomeContent, home_view
from sessions import FixedClock, Home


async def test_the_home_tab_says_an_approval_went_stale_not_just_approved(
    make_engine: Any, home: Home
) -> None:
    """The card says "Stale: … did not run"; the requester's Home tab listed the same
    request under Recently decided as "approved by @bob", with nothing after it: to the
    person who asked, it read as done."""
    valid = Policy(default=PolicyRule(valid_for_seconds=3600))
    engine = await make_engine(policy=valid)
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    (waiting,) = await engine.waiting()
    home.kill_switch.touch()  # approved, held past its second clock
    await engine.decide(waiting.capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    assert isinstance(engine.clock, FixedClock)
    engine.clock.advance(timedelta(hours=2))
    home.kill_switch.unlink()
    engine.wake(THREAD)
    await engine.idle()
    (item,) = await engine.recently_decided("U0ALICE")
    assert item.stale is not None and item.result is None
    content = HomeContent(user="U0ALICE", waiting=(), mine=(), decided=(item,), now=NOW)
    shown = json.dumps(home_view(content)["blocks"])
    assert "approved by" in shown and "stale: did not run" in shown


async def test_the_home_tab_says_an_approved_call_refused_at_start_did_not_run(
    make_engine: Any, home: Home
) -> None:
    """Approved, but refused when it was to start (here: its session lost its seal): the
    card says "not run: it failed its checks", the Home tab said "approved by @bob"."""
    engine = await make_engine()
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    await engine.idle()
    (waiting,) = await engine.waiting()
    (Path(home.session_dir(waiting.capsule.session_id)) / "MANIFEST.sha256").unlink()
    await engine.decide(waiting.capsule.id, user="U0BOB", approve=True)
    await engine.idle()
    (item,) = await engine.recently_decided("U0ALICE")
    assert item.result is None and item.stale is None and item.told is not None
    content = HomeContent(user="U0ALICE", waiting=(), mine=(), decided=(item,), now=NOW)
    shown = json.dumps(home_view(content)["blocks"], ensure_ascii=False)
    assert "approved by" in shown and "not run: it failed its checks" in shown
