"""The embedded default: a scripted run of the whole engine with no Slack and no API key.

Alice asks for a restart; the request parks on disk; Alice may not approve her own
request; the engine is shut down, and two days later (by the clock) a fresh engine with
nothing in memory takes Bob's approval, runs the stored call once, and the child
session finishes. Then a denial reaches the model, and the identical request is refused
without a new card. Everything printed is also on disk under the demo's home.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent_core.demo_fleet import demo_registry, read_fleet
from agent_core.engine import Engine
from agent_core.history import thread_history
from agent_core.offline import OfflineModel
from agent_core.surface import RecordingSurface
from approvals import Policy
from sessions import (
    FixedClock,
    Home,
    InboxMessage,
    ThreadDir,
    ThreadKey,
    session_ids,
    utc_iso,
    verify,
)

from .errors import ConfigError
from .trace_view import render_history

__all__ = ["run_demo"]

TEAM, CHANNEL = "T0LOCAL", "C0OPS"
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
POLICY = Policy.from_mapping(
    {"default": {"expires_after": "7d"}, "tools": {"deploy_service": {"approvers": [BOB]}}},
    source="demo policy",
)


def _say(title: str) -> None:
    print(f"\n── {title} " + "─" * max(0, 70 - len(title)))


@asynccontextmanager
async def _opened(
    home: Home, clock: FixedClock, surface: RecordingSurface
) -> AsyncIterator[Engine]:
    # Closed however the script ends (Ctrl-C too): an open index keeps the process alive.
    engine = await Engine.open(
        home=home,
        model=OfflineModel(),
        registry=demo_registry(),
        surface=surface,
        clock=clock,
        policy=POLICY,
    )
    try:
        yield engine
    finally:
        await engine.close()


async def _post(engine: Engine, thread: ThreadKey, user: str, text: str, ts: str) -> None:
    print(f"  <{user}> {text}")
    message = InboxMessage(
        thread=thread, ts=ts, user=user, text=text, received_at=utc_iso(engine.clock.now())
    )
    await engine.ingest(message)
    await engine.idle()


async def run_demo(home_arg: str | None) -> int:
    root = Path(home_arg).expanduser() if home_arg else None
    # Anything but a new or empty directory (a file, /dev/null) is another's to keep.
    if root is not None and root.exists() and not (root.is_dir() and not any(root.iterdir())):
        # The script expects a world of its own: a second run found the first one's.
        raise ConfigError(
            f"demo --home {root}: not an empty directory; name a new one, or leave out "
            "--home for a temporary one"
        )
    home = Home((root or Path(tempfile.mkdtemp(prefix="signoff-demo-"))).resolve())
    start = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(start)
    surface = RecordingSurface(echo=True)
    base = int(start.timestamp())
    thread = ThreadKey(team=TEAM, channel=CHANNEL, thread_ts=f"{base}.000100")
    print(f"signoff demo — data in {home.root}")

    async with _opened(home, clock, surface) as engine:
        _say("Alice asks in #ops")
        await _post(engine, thread, ALICE, "<@U0SIGNOFF> status of api", f"{base}.000100")
        await _post(engine, thread, ALICE, "<@U0SIGNOFF> restart the api service", f"{base}.000200")
        card = surface.cards[-1]
        _say("Alice tries to approve her own request")
        result = await engine.decide(card.id, user=ALICE, approve=True)
        print(f"  → {type(result).__name__}: {getattr(result, 'reason', '')}")
    print("  (the engine stops; the request waits on disk)")

    _say("Two days later, a fresh process: Bob approves")
    clock.advance(timedelta(days=2))
    async with _opened(home, clock, surface) as engine:
        await engine.recover()
        result = await engine.decide(card.id, user=BOB, approve=True)
        await engine.idle()
        print(f"  → {type(result).__name__}")
        late = await engine.decide(card.id, user=CAROL, approve=True)
        print(f"  Carol clicks too late → {type(late).__name__}")
        restarts = read_fleet(home.root)["services"]["api"]["restarts"]
        print(f"  fleet.json: api restarts = {restarts}")

        _say("Carol asks for a deploy; Bob denies it")
        await _post(
            engine, thread, CAROL, "<@U0SIGNOFF> deploy web 2.1.0", f"{base + 172900}.000100"
        )
        deploy = surface.cards[-1]
        await engine.decide(
            deploy.id, user=BOB, approve=False, reason="release freeze until Monday"
        )
        await engine.idle()
        _say("Carol asks again: the runtime refuses without a new card")
        cards_before = len(surface.cards)
        await _post(
            engine, thread, CAROL, "<@U0SIGNOFF> deploy web 2.1.0", f"{base + 172950}.000100"
        )
        print(f"  new cards: {len(surface.cards) - cards_before}")

    _say("The thread's trace")
    head = ThreadDir(home, thread).head()
    assert head is not None
    print(render_history(thread_history(home, head)))
    sealed = [verify(home.session_dir(s)) for s in session_ids(home)]
    print(f"verify: {sum(r.ok for r in sealed)} of {len(sealed)} sessions match their manifests")
    ok = restarts == 1 and len(surface.cards) == cards_before and all(r.ok for r in sealed)
    print("demo finished: " + ("everything as expected" if ok else "SOMETHING WENT WRONG"))
    return 0 if ok else 1
