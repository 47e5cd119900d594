"""Fixtures for the tool tests: signoff engines built the way ``signoff run`` builds them
(``bot.tooling.open_engine``) on a config file, and the test MCP server over both
transports."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcp_fixture_kit import HttpOpsServer, server_table, stdio_command, write_config

from agent_core.engine import Engine
from agent_core.surface import RecordingSurface
from bot.config import Settings
from bot.logs import setup_logging
from bot.tooling import open_engine
from sessions import FixedClock, Home

SignoffFactory = Callable[..., Awaitable[Engine]]


@pytest.fixture
async def open_signoff(
    home: Home, clock: FixedClock, surface: RecordingSurface
) -> AsyncIterator[SignoffFactory]:
    """``await open_signoff(config_path, **settings)``: a new signoff "process"."""
    opened: list[Engine] = []

    async def factory(config: Path | None = None, **changes: Any) -> Engine:
        settings = Settings(home=home.root, config_path=config, **changes)
        engine = await open_engine(settings, surface=surface, clock=clock)
        opened.append(engine)
        return engine

    yield factory
    for engine in opened:
        try:
            await engine.close()
        except ValueError:
            pass  # closed by the test already


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return tmp_path / "ops-calls.jsonl"


@pytest.fixture
def http_ops(tmp_path: Path, record: Path) -> Iterator[HttpOpsServer]:
    server = HttpOpsServer(record, tmp_path)
    yield server
    server.stop()


@pytest.fixture(params=["stdio", "http"])
def ops_config(request: pytest.FixtureRequest, tmp_path: Path, record: Path) -> Path:
    """A config with the ops server, once over stdio and once over streamable HTTP."""
    if request.param == "stdio":
        transport = f"command = {stdio_command(record)}"
    else:
        server: HttpOpsServer = request.getfixturevalue("http_ops")
        transport = f'url = "{server.url}"'
    return write_config(tmp_path / "signoff.toml", server_table(transport))


@pytest.fixture
def ops_config_with(tmp_path: Path, record: Path) -> Iterator[Callable[..., Path]]:
    """``ops_config_with("stdio" | "http", asking=…, busy=…, coded=…)``: a config with the ops server
    started with those options (over HTTP, in a process stopped after the test)."""
    started: list[HttpOpsServer] = []

    def make(
        transport: str, *, asking: bool = False, busy: bool = False, coded: bool = False
    ) -> Path:
        if transport == "stdio":
            line = f"command = {stdio_command(record, asking=asking, busy=busy, coded=coded)}"
        else:
            started.append(HttpOpsServer(record, tmp_path, asking=asking, busy=busy, coded=coded))
            line = f'url = "{started[-1].url}"'
        return write_config(tmp_path / "signoff.toml", server_table(line))

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """signoff's own log set-up, into a string."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    setup_logging(format="text", level="INFO", stream=stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
