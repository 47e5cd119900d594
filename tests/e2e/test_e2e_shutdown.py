"""Graceful stop while a turn runs (SIGTERM's path, ``SignoffBot.stop``): no exception, no
new envelopes taken, the running turn either finishes within the grace period or is left
for the next start's recovery; either way every session ends terminal and every message is
answered exactly once.

The turn is held inside the model call by a gate the test controls. A turn still held when
the grace period runs out is ended the way a process exit ends it: the task dies with
``CancelledError`` at its await, leaving its session ``running`` on disk.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from signoff_e2e_kit import (
    OPS,
    TERMINAL,
    bot_messages,
    bot_reply,
    inbox_stored,
    inbox_waiting,
    lineage,
    mention,
    session_record,
    session_states,
    thread_path,
    until,
)

from bot.app import SignoffBot
from bot.config import Settings
from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory


class ModelGate:
    """Holds the bot's first model call until released (or killed)."""

    def __init__(self, bot: SignoffBot) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.killed = False
        model = bot.engine.rt.model
        self._think = model.complete
        model.complete = self.complete  # type: ignore[method-assign]

    async def complete(self, **kwargs: Any) -> Any:
        if not self.entered.is_set():
            self.entered.set()
            await self.release.wait()
            if self.killed:
                raise asyncio.CancelledError  # the process is gone
        return await self._think(**kwargs)

    def kill(self) -> None:
        self.killed = True
        self.release.set()


def answers(slack: LocalSlack, thread: str, service: str) -> int:
    return len(bot_messages(slack, thread, f"service={service},"))


async def test_stop_lets_the_running_turn_finish_and_leaves_new_messages_to_the_next_start(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    home = settings.home
    first: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    gate = ModelGate(first)
    thread = await mention(slack, "status of api")
    await asyncio.wait_for(gate.entered.wait(), timeout=10)

    stopping = asyncio.create_task(first.stop(grace=10))
    await until(lambda: not first.handler.accepting, what="the bot to stop accepting")
    # Sent while the bot stops: it must not be taken now, nor lost.
    late = await slack.post_message(
        channel=OPS, user="U0BOB", text="status of db", thread_ts=thread
    )
    await asyncio.sleep(0.05)
    assert not stopping.done()  # still waiting for the running turn
    gate.release.set()
    await asyncio.wait_for(stopping, timeout=10)  # no exception
    assert stopping.exception() is None
    await bot_reply(slack, thread, "service=api,")
    assert list(session_states(home).values()) == ["completed"]
    assert answers(slack, thread, "db") == 0
    taken = [
        d
        for d in slack.deliveries(type="events_api")
        if d.payload["event"].get("ts") == late and d.acked
    ]
    assert taken == []

    second: SignoffBot = await start_bot()
    await bot_reply(slack, thread, "service=db,")
    await second.engine.idle()
    states = session_states(home)
    assert len(states) == 2 and set(states.values()) == {"completed"}
    assert answers(slack, thread, "api") == 1
    assert answers(slack, thread, "db") == 1
    assert inbox_waiting(home) == []


async def test_turn_outliving_the_grace_period_is_recovered_by_the_next_start(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings
) -> None:
    home = settings.home
    first: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    gate = ModelGate(first)
    thread = await mention(slack, "status of worker")
    await asyncio.wait_for(gate.entered.wait(), timeout=10)

    began = time.monotonic()
    await first.stop(grace=0.3)  # returns, without an exception, though the turn still runs
    assert time.monotonic() - began < 3
    gate.kill()  # ... and then the process exits
    await asyncio.sleep(0.05)
    (crashed,) = lineage(home, thread)
    assert session_states(home)[crashed] == "interrupted"  # not running: nothing runs it
    assert answers(slack, thread, "worker") == 0

    second: SignoffBot = await start_bot()
    await bot_reply(slack, thread, "service=worker,")
    await second.engine.idle()
    states = session_states(home)
    assert set(states.values()) <= TERMINAL
    chain = lineage(home, thread)
    assert chain[0] == crashed and len(chain) == 2
    assert states[crashed] == "failed"
    assert session_record(home, crashed)["transitions"][-1]["reason"].startswith("crashed")
    assert states[chain[1]] == "completed"
    assert session_record(home, chain[1])["cause"] == "recovery"
    assert answers(slack, thread, "worker") == 1
    assert inbox_waiting(home) == []


async def test_stop_waits_for_an_envelope_still_being_stored(
    slack: LocalSlack, start_bot: BotFactory, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The SDK handles each frame in a task it holds no reference to: closing the Socket
    Mode loop under one left it destroyed while pending ("Task was destroyed but it is
    pending!") and the envelope half handled."""
    bot: SignoffBot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    entered, release = threading.Event(), threading.Event()
    store = bot.ingest.handle

    async def slow_store(payload: Any) -> Any:
        entered.set()
        await asyncio.to_thread(release.wait, 10)
        return await store(payload)

    bot.ingest.handle = slow_store  # type: ignore[method-assign]
    thread = await mention(slack, "status of api")
    assert await asyncio.to_thread(entered.wait, 10)

    stopping = asyncio.create_task(bot.stop(grace=5))
    await until(lambda: not bot.handler.accepting, what="the bot to stop accepting")
    await asyncio.sleep(0.1)
    release.set()
    await asyncio.wait_for(stopping, timeout=10)
    gc.collect()
    assert inbox_stored(thread_path(settings.home, thread), thread)
    assert not [r for r in caplog.records if "destroyed" in r.getMessage()]


async def test_an_envelope_still_being_stored_when_the_stop_runs_out_is_cut_not_left_pending(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    """Its frame is cancelled (unacked: Slack delivers it again) before the socket thread's
    loop stops; left pending, the loop's end destroyed it with an error in the log."""
    bot: SignoffBot = await start_bot(drain_s=0)
    await slack.wait_for_sockets(1, timeout=5)
    storing = threading.Event()

    async def never_stored(message: Any) -> bool:
        storing.set()
        await asyncio.Event().wait()
        return True

    bot.engine.ingest = never_stored  # type: ignore[method-assign]  # a store that hangs
    stuck = await mention(slack, "status of api")
    await until(storing.is_set, what="the envelope to be in its store")
    await bot.stop()
    assert not bot.handler._frames  # none left pending for the loop's end to destroy
    cut = [
        d
        for d in slack.deliveries()
        if d.payload["event"].get("ts") == stuck and d.payload["event"]["type"] == "app_mention"
    ]
    assert cut and not any(d.acked for d in cut)  # each copy Slack sent stays unacked


@pytest.mark.parametrize("failing", [("idle",), ("close",), ("idle", "close")])
async def test_a_step_of_stop_that_fails_still_closes_everything_after_it(
    start_bot: BotFactory, failing: tuple[str, ...]
) -> None:
    """The engine failing to go idle or to close is logged and raised (the first failure,
    when both do), but the operator's HTTP port is freed and the Slack HTTP session closed:
    left open, a restart in the same process cannot bind the port, and the session leaks
    ("Unclosed client session")."""
    bot: SignoffBot = await start_bot()
    assert bot.ops is not None and bot.http is not None
    url = bot.ops.url
    close = bot.engine.close

    for step in failing:

        async def broken(*, _step: str = step, **_: object) -> None:
            raise RuntimeError(f"engine {_step} broke")

        setattr(bot.engine, step, broken)
    try:
        with pytest.raises(RuntimeError, match=f"engine {failing[0]} broke"):
            await bot.stop(grace=1)
        assert bot.http.closed
        async with aiohttp.ClientSession() as probe:
            with pytest.raises(aiohttp.ClientConnectionError):
                await probe.get(f"{url}/healthz")
    finally:
        if "close" in failing:
            # The broken close left the index open: its database thread, finishing after
            # this test's loop closed, raised in a later test ("Event loop is closed").
            await close()


async def test_a_link_gone_silent_does_not_hold_the_stop(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    """The stop's first step closes the Socket Mode link, and aiohttp waits up to 10 s for
    the peer's answer to its close frame: on a network gone silent (no reset, nothing
    answered) the stop spent those 10 s before the drain even began, past the 29 s the
    docs promise and the 30 s a container is given."""
    bot = await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    assert slack.freeze_sockets() == ["socket-1"]
    started = time.monotonic()
    await bot.stop(grace=0)
    assert time.monotonic() - started < 5
    assert bot.handler.client.link_problem() == "socket mode: stopped"
