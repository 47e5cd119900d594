"""A shard of sessions that cannot be listed (another user's; here a symbolic link to
itself, which stops root too): readers that opt in are told of it and go on with the
rest; everything else fails loudly, never taking it for a shard with no sessions."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest
from engine_support import message

from agent_core.audit import audit_records
from approvals import scan_session_approvals
from sessions import Home, iter_session_dirs, reindex, session_ids

READABLE = "sess_ab0123456789"


def _with_a_shard_it_cannot_list(home: Home) -> Path:
    (home.sessions_dir / "ab" / READABLE).mkdir(parents=True)
    shard = home.sessions_dir / "f7"
    shard.symlink_to("f7")  # listing it fails with ELOOP, as a mode 000 one does for a user
    return shard


def test_a_reader_that_opts_in_is_told_of_the_shard_and_gets_the_rest(home: Home) -> None:
    shard = _with_a_shard_it_cannot_list(home)
    told: list[tuple[Path, int | None]] = []
    assert session_ids(home, unlistable=lambda p, exc: told.append((p, exc.errno))) == [READABLE]
    found = list(iter_session_dirs(home, unlistable=lambda p, exc: told.append((p, exc.errno))))
    assert found == [(READABLE, home.sessions_dir / "ab" / READABLE)]
    assert told == [(shard, errno.ELOOP)] * 2


def test_everyone_else_fails_loudly(home: Home) -> None:
    """The bot, reindex and recovery: sessions silently left out would be work lost."""
    _with_a_shard_it_cannot_list(home)
    with pytest.raises(OSError):
        session_ids(home)
    with pytest.raises(OSError):
        list(iter_session_dirs(home))


async def test_reindex_stops_rather_than_drop_the_shard_s_sessions(home: Home) -> None:
    _with_a_shard_it_cannot_list(home)
    with pytest.raises(OSError) as raised:
        await reindex(home, scan_approvals=scan_session_approvals)
    assert raised.value.errno == errno.ELOOP


async def test_audit_reports_a_shard_of_pointers_it_cannot_list_and_exports_its_approvals(
    make_engine: Any, home: Home
) -> None:
    """``approvals/<shard>/`` (the pointers) unlistable ended ``audit`` with the error, as
    a session shard did. Its approvals are still found in their sessions: exported, and
    flagged for a pointer that could not be read, not for one that is missing."""
    engine = await make_engine()
    await engine.ingest(message("restart api", ts="1700000001.000100"))
    await engine.idle()
    [pending] = await engine.waiting()
    shard = home.pointer_path(pending.capsule.id).parent
    shard.rename(shard.with_name("moved"))
    shard.symlink_to(shard.name)  # listing it fails with ELOOP, as mode 000 does for a user
    records = list(audit_records(home))
    (row,) = [r for r in records if not r.approval_id]
    assert f"the approval pointers in {shard} could not be listed" in row.problems[0], row
    (record,) = [r for r in records if r.approval_id == pending.capsule.id]
    assert record.flagged and not any("is missing" in p for p in record.problems), record
    assert any("could not be read" in p for p in record.problems), record
