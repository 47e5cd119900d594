"""The index held by another program past its busy timeout (a `sqlite3` shell left in a
write transaction): a turn that meets it stops with one log line, no traceback, and the
message is answered once the index is free, with no further event."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from engine_support import EngineFactory, message
from test_delivery_unrecorded import until

from agent_core.surface import RecordingSurface
from sessions import Home


async def test_a_busy_index_delays_a_turn_and_loses_nothing(
    make_engine: EngineFactory,
    home: Home,
    surface: RecordingSurface,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The busy timeout is waited out for real, shortened to 0.5 s (5 s in production).
    monkeypatch.setenv("SIGNOFF_BUSY_WAIT_S", "0.5")
    engine = await make_engine()
    await engine.ingest(message("status of api", ts="1700000000.000100"))
    await engine.idle()
    other = sqlite3.connect(home.index_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    caplog.set_level(logging.WARNING, logger="signoff")
    try:
        await engine.ingest(message("status of web", ts="1700000000.000200"))

        def stopped() -> list[logging.LogRecord]:
            return [r for r in caplog.records if "stopped on the index" in r.getMessage()]

        await until(lambda: bool(stopped()), timeout=30)
    finally:
        other.execute("COMMIT")
        other.close()
    await until(lambda: len(surface.replies) == 2, timeout=30)
    await engine.close()
    assert "service=web" in surface.replies[1][1]
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
