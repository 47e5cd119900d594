"""A terminal stopped while it holds a session's directory lock holds up nobody else's sweep.

A session ends in two steps under its directory's lock: its final state, then its seal.
A terminal's ``signoff approve`` (or ``verify``, or ``recover``) suspended there (Ctrl-Z)
kept that lock, and the bot's sweep, which seals a session it finds ended without a seal
(``ended_unsealed``), waited for it without end: no later pass came, so no expiry or
reminder went out for anyone until the terminal went on. Now the sweep waits a short
while, leaves that session for its next pass and goes on.

Deterministic: a forked process takes the lock and stops itself (SIGSTOP) holding it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from engine_support import call, message, text
from helpers_proc import stopped_holding
from test_deferred_calls import Vault

from agent_core.scripted import ScriptedModel
from agent_core.tools import ToolRegistry
from approvals import ApprovalRequest, Policy, PolicyRule
from sessions import FixedClock, Home, SessionState, SessionStore, ThreadKey, verify

OTHER = ThreadKey(team="T0001", channel="C0OTHER", thread_ts="1700000001.000200")


async def test_the_sweep_goes_on_past_a_session_a_stopped_terminal_is_sealing(
    make_engine: Any, home: Home, clock: FixedClock, surface: Any
) -> None:
    model = ScriptedModel([call("rotate_key", {"name": "db"}, "c1"), text("ok")], repeat_last=True)
    policy = Policy(default=PolicyRule(expires_after_seconds=600))
    engine = await make_engine(model=model, registry=ToolRegistry([Vault([])]), policy=policy)
    await engine.ingest(message("rotate the db key", ts="1700000000.000100"))
    await engine.idle()
    (card,) = surface.cards

    # Another thread's session, ended by a terminal that stopped before sealing it: on disk
    # it ended, with no seal; the index still has it running.
    store = SessionStore(home, clock=clock)
    record = store.create(thread=OTHER, parent_id=None, cause="message", session_md="#\n")
    running = store.transition(record.id, expected=SessionState.CREATED, new=SessionState.RUNNING)
    await engine.rt.index.put_session(running)
    store.transition(record.id, expected=SessionState.RUNNING, new=SessionState.COMPLETED)
    directory = Path(home.session_dir(record.id))
    (directory / "MANIFEST.sha256").unlink()

    with stopped_holding(directory):
        await asyncio.wait_for(engine.sweep(), timeout=10)
        clock.advance(timedelta(minutes=11))  # the request in the first thread expires
        assert await asyncio.wait_for(engine.sweep(), timeout=10) == 1
        decision = ApprovalRequest.open(home, card.id).decision()
        assert decision is not None and decision.verdict == "expired", decision
        assert not verify(directory).sealed

    # Once the terminal goes on (here: lets go), the next pass seals it.
    await asyncio.wait_for(engine.sweep(), timeout=10)
    assert verify(directory).sealed
