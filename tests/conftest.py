"""Shared fixtures: a temporary home, a fixed clock, and an engine on the demo fleet."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from engine_support import EngineFactory, close_within

from agent_core.demo_fleet import demo_registry
from agent_core.engine import Engine
from agent_core.model import Model
from agent_core.offline import OfflineModel
from agent_core.surface import RecordingSurface
from agent_core.tools import ToolRegistry
from localslack import LocalSlack, WorkspaceConfig
from sessions import FixedClock, Home

# slack_sdk ignores NO_PROXY: no test may go through a proxy.
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_name, None)
os.environ.pop("SIGNOFF_FAILPOINT", None)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    h = Home(tmp_path / "home")
    h.ensure()
    return h


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    """A LocalSlack for tests that drive slack_sdk directly (e2e/ has its own, with a bot)."""
    async with LocalSlack(WorkspaceConfig(seed=3)) as server:
        yield server


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def surface() -> RecordingSurface:
    return RecordingSurface()


@pytest.fixture
async def make_engine(
    home: Home, clock: FixedClock, surface: RecordingSurface
) -> AsyncIterator[EngineFactory]:
    opened: list[Engine] = []

    async def factory(
        model: Model | None = None, registry: ToolRegistry | None = None, **options: Any
    ) -> Engine:
        engine = await Engine.open(
            home=home,
            model=model or OfflineModel(),
            registry=registry or demo_registry(),
            surface=options.pop("surface", surface),
            clock=options.pop("clock", clock),
            **options,
        )
        opened.append(engine)
        return engine

    yield factory
    for engine in opened:
        try:
            await close_within(engine)
        except ValueError:
            pass  # already closed by the test
