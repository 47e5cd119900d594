"""A thread's HEAD file is a hint: one that cannot be read does not stop the thread.
(Found by a review of the on-disk home; the test failed on the code it was written
against.)"""

from __future__ import annotations

import pytest
from engine_support import THREAD, EngineFactory, chain, message, user_ts

from sessions import Home, ThreadDir


@pytest.mark.parametrize("kind", ["empty", "not a session id", "not utf-8", "directory"])
async def test_a_thread_whose_head_cannot_be_read_is_still_answered(
    make_engine: EngineFactory, home: Home, kind: str
) -> None:
    """Every session's id derives from its parent's, so the thread's newest session is
    found from its first without HEAD (docs/storage.md). A HEAD that was empty, not a
    session id, not text or a directory raised at every pass of the thread's worker: no
    later message of the thread was ever answered. It is read as no hint, the walk starts
    at the thread's first session, and the next turn writes HEAD again."""
    engine = await make_engine()
    await engine.ingest(message("status of api", ts="1700000000.000100"))
    await engine.idle()
    path = ThreadDir(home, THREAD).path / "HEAD"
    path.unlink()
    if kind == "directory":
        path.mkdir()
    else:
        path.write_bytes({"empty": b"", "not a session id": b"../etc\n"}.get(kind, b"\xff\xfe"))
    await engine.ingest(message("status of web", ts="1700000000.000200"))
    await engine.idle()
    assert user_ts(home)[-1] == "1700000000.000200"
    assert list(engine.errors) == []
    assert len(chain(home)) == 2
