"""The modals' forms do not pile up: every Deny, reason or edit modal leaves one file in
``forms/`` (renamed ``.used`` once submitted), and nothing removed them, so one directory
grew with the home for ever. The sweep removes a form once its request is decided and
the form is a month old; a form of a request still waiting stays, however old."""

from __future__ import annotations

from datetime import timedelta

from engine_support import THREAD, EngineFactory, message

from approvals import Decided, Policy, PolicyRule
from sessions import FixedClock, Home, ThreadKey

LONG = Policy(default=PolicyRule(expires_after_seconds=90 * 86400))


async def test_the_sweep_removes_forms_of_decided_requests_a_month_old(
    make_engine: EngineFactory, home: Home
) -> None:
    engine = await make_engine(policy=LONG)
    clock = engine.clock
    assert isinstance(clock, FixedClock)
    await engine.ingest(message("restart api", ts="1700000000.000100"))
    other = ThreadKey(team=THREAD.team, channel=THREAD.channel, thread_ts="1700000000.000200")
    await engine.ingest(message("restart db", ts="1700000000.000200", thread=other))
    await engine.idle()
    decided, waiting = (w.capsule for w in await engine.waiting())
    old_used = engine.open_form(kind="deny", approval_id=decided.id, user="U0BOB", args_sha256="")
    assert engine.take_form(kind="deny", form_key=old_used, user="U0BOB") is not None
    old_open = engine.open_form(kind="deny", approval_id=decided.id, user="U0CAROL", args_sha256="")
    old_waiting = engine.open_form(
        kind="deny", approval_id=waiting.id, user="U0BOB", args_sha256=""
    )
    assert isinstance(await engine.decide(decided.id, user="U0BOB", approve=True), Decided)
    await engine.idle()
    clock.advance(timedelta(days=31))
    recent = engine.open_form(kind="deny", approval_id=decided.id, user="U0DAVE", args_sha256="")
    forms = home.root / "forms"
    assert len(list(forms.iterdir())) == 4
    await engine.sweep()
    left = sorted(p.name for p in forms.iterdir())
    assert left == sorted([f"{old_waiting}.json", f"{recent}.json"])
    assert engine.peek_form(kind="deny", form_key=old_waiting, user="U0BOB") is not None
    assert engine.peek_form(kind="deny", form_key=old_open, user="U0CAROL") is None
