"""A file in a thread's ``inbox/new/`` that is no message this thread can take is set
aside, not retried for ever. (Found by a review of the on-disk home; each test failed on
the code it was written against.)"""

from __future__ import annotations

import pytest
from engine_support import THREAD, EngineFactory, message, user_ts

from agent_core.surface import RecordingSurface
from sessions import Home, ThreadDir


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("1700000000.000150", "empty"),  # a zero-length file: disk damage, a hand's `touch`
        ("1700000000.000150", "directory"),
        ("1700000000.000150", "not utf-8"),
        ("1700000000.000150", "another message"),  # a copy under another message's name
        ("notes.txt", "not utf-8"),  # not a ts at all
    ],
)
async def test_one_unreadable_file_in_the_inbox_does_not_stop_the_thread(
    make_engine: EngineFactory,
    home: Home,
    surface: RecordingSurface,
    name: str,
    kind: str,
) -> None:
    """The thread's worker read every file in ``new/`` and raised at one it could not
    parse or open: every pass stopped there, so no later message of that thread was ever
    answered (acked, stored, and retried with backoff for ever). It is moved to
    ``inbox/unreadable/`` with an error in the log, as the outbox does with an entry that
    does not parse, and the thread goes on."""
    engine = await make_engine()
    await engine.ingest(message("status of api", ts="1700000000.000100"))
    await engine.idle()
    inbox = ThreadDir(home, THREAD).inbox
    bad = inbox.new / name
    if kind == "directory":
        bad.mkdir()
    elif kind == "empty":
        bad.write_bytes(b"")
    elif kind == "not utf-8":
        bad.write_bytes(b"\xff\xfe{}")
    else:
        bad.write_bytes(message("restart db", ts="1700000000.000170").model_dump_json().encode())
    before = len(surface.replies)
    await engine.ingest(message("status of web", ts="1700000000.000200"))
    await engine.idle()
    assert user_ts(home)[-1] == "1700000000.000200"
    assert len(surface.replies) > before
    assert not bad.exists() and (inbox.root / "unreadable" / name).exists()
    assert list(engine.errors) == []
