"""The index rebuilt over a damaged home, and an index file that is damaged itself.

Found by a review of the on-disk home; every test here failed on the code it was written
against. The index is a cache of the directories (I5): a rebuild must index everything it
can read and count what it cannot, never stop at the first bad file nor drop a readable
request beside an unreadable one, and an index that lost its contents is rebuilt, not read
as "nothing is waiting".
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from engine_support import THREAD, EngineFactory
from governance_support import ARGS, REQUESTER, TOOL, approve, park

from agent_core.engine import Engine
from approvals import (
    ApprovalRequest,
    Capsule,
    Decided,
    PolicyRule,
    build_capsule,
    scan_session_approvals,
)
from bot.cli import main
from sessions import (
    FixedClock,
    Home,
    IndexDamagedError,
    SessionState,
    SessionStore,
    index_damage,
    reindex,
    set_aside_damaged,
    verify,
)
from sessions.index_damage import _damage


async def _pending(home: Home) -> set[str]:
    index = await Engine.open_index(home)
    try:
        return {row.id for row in await index.approvals(status="pending")}
    finally:
        await index.close()


async def test_an_emptied_index_is_rebuilt_not_read_as_nothing_waiting(
    home: Home, clock: FixedClock
) -> None:
    """A zero-length ``index.sqlite3`` (a restore or copy cut short, a full disk, an
    operator's ``> index.sqlite3``) opened as a new, empty database: ``signoff pending``
    said nothing was waiting, and a bot started on it never expired, reminded or listed
    a request it had parked. It holds nothing, like a missing index: it is rebuilt."""
    capsule = park(home, clock)
    await reindex(home, scan_approvals=scan_session_approvals)
    home.index_path.write_bytes(b"")
    assert await _pending(home) == {capsule.id}


async def test_one_session_whose_record_cannot_be_read_does_not_stop_the_rebuild(
    home: Home, clock: FixedClock
) -> None:
    """A ``session.json`` the rebuild could not open (a directory by that name here; a
    file restored without read permission, an I/O error) raised out of ``reindex``: no
    index at all, and a bot that starts on a home without one could not start. It is
    counted unreadable, like a record that does not parse, and the rest is indexed."""
    broken, fine = park(home, clock), park(home, clock)
    record = Path(home.session_dir(broken.session_id)) / "session.json"
    record.unlink()
    record.mkdir()
    counts = await reindex(home, scan_approvals=scan_session_approvals)
    assert counts["unreadable_sessions"] == 1 and counts["sessions"] == 1
    assert await _pending(home) == {fine.id}


def _second_request(home: Home, clock: FixedClock, first: Capsule) -> Capsule:
    """Another request parked by ``first``'s session (a turn that asked for two calls)."""
    capsule = build_capsule(
        session_id=first.session_id,
        thread=THREAD,
        call_id="call_2",
        tool=TOOL,
        tool_version="v1",
        arguments={**ARGS, "service": "web"},
        requester=REQUESTER,
        reason="traffic",
        policy=PolicyRule(),
        now=clock.now(),
    )
    ApprovalRequest.create(home, capsule, clock=clock)
    return capsule


async def test_one_bad_capsule_does_not_hide_the_other_requests_of_its_session(
    home: Home, clock: FixedClock
) -> None:
    """A session's requests were indexed all or none: one capsule that did not parse (or
    whose records could not be read) left every other request of that session out of the
    rebuilt index, so none of them was listed, reminded or expired."""
    first = park(home, clock)
    second = _second_request(home, clock, first)
    approvals = Path(home.session_dir(first.session_id)) / "approvals"
    broken, fine = sorted([first, second], key=lambda c: c.id)  # the first one read breaks
    (approvals / f"{broken.id}.json").write_text("{ not json")
    counts = await reindex(home, scan_approvals=scan_session_approvals)
    assert counts["unreadable_sessions"] == 1
    assert await _pending(home) == {fine.id}


async def test_one_bad_capsule_does_not_stop_recovery_sealing_its_session(
    make_engine: EngineFactory, home: Home, clock: FixedClock
) -> None:
    """Recovery seals a session a crash left ended but unsealed, then re-reads its requests
    into the index: one capsule that did not parse raised out of recovery, so signoff
    could not start (and a running bot's sweep raised on every pass)."""
    engine = await make_engine()
    first = park(home, clock)
    second = _second_request(home, clock, first)
    directory = Path(home.session_dir(first.session_id))
    broken, fine = sorted([first, second], key=lambda c: c.id)
    (directory / "approvals" / f"{broken.id}.json").write_text("{ not json")
    (directory / "MANIFEST.sha256").unlink()  # a crash before the seal
    record = SessionStore(home).load(first.session_id)
    await engine.rt.index.put_session(record.model_copy(update={"state": SessionState.RUNNING}))
    await engine.recover()
    assert verify(directory).sealed
    assert (await engine.rt.index.approval(fine.id)) is not None


async def test_a_rebuild_restores_the_pointer_a_request_is_decided_through(
    home: Home, clock: FixedClock
) -> None:
    """A button's id finds its capsule through ``approvals/<shard>/<id>``. A session
    restored from a backup without its pointer was listed as waiting by every list the
    index feeds (and by the rebuilt index), yet deciding it said "no approval": the
    rebuild reads every capsule, and writes a pointer that is missing."""
    capsule = park(home, clock)
    home.pointer_path(capsule.id).unlink()
    await reindex(home, scan_approvals=scan_session_approvals)
    assert await _pending(home) == {capsule.id}
    assert isinstance(await approve(home, capsule, "U0BOB", clock), Decided)


def test_signoff_pending_leaves_out_a_request_decided_on_disk_the_index_lags(
    home: Home,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The index lags the files by a step after a crash (a command killed right after the
    decision file, before its row was updated, until a bot or `signoff recover` carries
    the thread on). ``signoff pending`` listed such a request as waiting: an operator
    looking after the crash was told a decided request still needed a decision."""
    clock = FixedClock(datetime.now(UTC))  # the command lists what has not expired by now
    decided, waiting = park(home, clock), park(home, clock)
    asyncio.run(reindex(home, scan_approvals=scan_session_approvals))
    asyncio.run(approve(home, decided, "U0BOB", clock))  # its file only: the row says pending
    monkeypatch.setenv("SIGNOFF_HOME", str(home.root))
    assert main(["pending"]) == 0
    out = capsys.readouterr().out
    assert waiting.id in out and decided.id not in out


@pytest.mark.parametrize(
    ("schema", "said"),
    [
        ("CREATE TABLE notes (text TEXT)", "no sessions table"),
        ("CREATE TABLE sessions (name TEXT)", "sessions table is not signoff's"),
    ],
)
async def test_another_program_s_database_is_damage_not_an_empty_index(
    home: Home, clock: FixedClock, schema: str, said: str
) -> None:
    """A SQLite file another program made was opened as the index: with none of our
    tables it became an empty one (our tables created in it: nothing waiting), with one
    of our names it failed on a column; either way the file was written to."""
    park(home, clock)
    home.index_path.unlink(missing_ok=True)
    with sqlite3.connect(home.index_path) as db:
        db.execute(schema)
    db.close()
    before = home.index_path.read_bytes()
    why = index_damage(home.index_path)
    assert why is not None and said in why
    with pytest.raises(IndexDamagedError, match="signoff reindex"):
        await _pending(home)
    assert home.index_path.read_bytes() == before


async def test_an_index_without_a_table_added_since_is_no_damage(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock)
    await reindex(home, scan_approvals=scan_session_approvals)
    with sqlite3.connect(home.index_path) as db:
        db.execute("DROP TABLE approval_askers")  # as an index built before it was added
    db.close()
    assert index_damage(home.index_path) is None
    assert await _pending(home) == {capsule.id}


async def test_a_start_setting_the_index_aside_while_a_command_opens_it_leaves_no_empty_index(
    home: Home, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command found the damaged index there (not missing: no rebuild), then a bot's
    start set it aside before the command looked at it for damage: finding no file, the
    command opened the index, and SQLite created a new, empty one. Every command and the
    bot (which then found an index, so rebuilt none) said nothing was waiting. A file that
    is gone by then is missing: the command rebuilds it, coordinated as any start is."""
    capsule = park(home, clock)
    home.index_path.write_bytes(bytes(range(256)) * 64)
    looked = index_damage

    def a_bot_starts_first(path: Path) -> str | None:
        # The interleaving: the bot's own set-aside (its lock, its move), then the look.
        asyncio.run(set_aside_damaged(home))
        return looked(path)

    monkeypatch.setattr("agent_core.engine.index_damage", a_bot_starts_first)
    assert await _pending(home) == {capsule.id}
    assert len(list(home.root.glob(f"{home.index_path.name}.damaged-*"))) == 1


def test_sqlite_s_extended_code_for_a_malformed_file_is_damage(tmp_path: Path) -> None:
    """Python 3.11 gives SQLite's extended code (SQLITE_CORRUPT_INDEX, 779), which never
    equalled SQLITE_CORRUPT (11): such damage was raised as an unknown error rather than
    said. A real one here: an index whose entries are not its table's."""
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE t (a TEXT, b TEXT); CREATE INDEX i ON t (b);"
            "INSERT INTO t VALUES ('1', '2'); PRAGMA writable_schema = ON;"
            "UPDATE sqlite_master SET sql = 'CREATE INDEX i ON t (a)' WHERE name = 'i';"
        )
    db.close()
    db = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.DatabaseError) as raised:
            db.execute("UPDATE t SET a = '3'")
    finally:
        db.close()
    assert raised.value.sqlite_errorcode == sqlite3.SQLITE_CORRUPT_INDEX
    assert "malformed" in _damage(raised.value)
