"""The two halves of a graceful stop (bot/shutdown.py), with an engine that is a fake of
its one method the wait uses."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, cast

import pytest

from agent_core.engine import Engine
from bot.shutdown import run_every, wait_for_turns


class Idle:
    """An engine with nothing running (or, with ``failing``, one that cannot say)."""

    def __init__(self, failing: Exception | None = None) -> None:
        self.failing = failing

    async def idle(self) -> None:
        if self.failing is not None:
            raise self.failing


async def test_an_idle_engine_with_a_second_signal_at_the_same_moment_cuts_nothing_short(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two signals together and nothing running: the log said the drain was cut short and
    recovery would continue the running turns, though none ran."""
    hurry = asyncio.Event()
    hurry.set()
    deadline = time.monotonic() + 5
    with caplog.at_level(logging.INFO):
        left = await wait_for_turns(cast(Engine, Idle()), grace=5, deadline=deadline, hurry=hurry)
    assert left == deadline
    assert "drain_cut_short" not in caplog.text and "recovery" not in caplog.text


async def test_why_the_engine_could_not_go_idle_is_raised_even_when_hurried() -> None:
    hurry = asyncio.Event()
    hurry.set()
    engine = cast(Engine, Idle(RuntimeError("index closed")))
    with pytest.raises(RuntimeError, match="index closed"):
        await wait_for_turns(engine, grace=5, deadline=time.monotonic() + 5, hurry=hurry)


async def test_a_cancelled_step_still_lets_every_later_one_close() -> None:
    """A cancel from one step (a socket call cancelled on its loop) skipped every close
    after it: the ops port and the HTTP session stayed open."""
    ran: list[str] = []

    async def cancelled() -> Any:
        ran.append("socket")
        raise asyncio.CancelledError

    async def close_port() -> Any:
        ran.append("port")

    async def broken() -> Any:
        ran.append("engine")
        raise RuntimeError("engine broke")

    async def close_session() -> Any:
        ran.append("session")

    first = await run_every([cancelled, broken, close_port, close_session])
    assert ran == ["socket", "engine", "port", "session"]
    assert isinstance(first, asyncio.CancelledError)  # raised by the stop once all is closed
