"""The index rebuilt over a damaged home, and an index file that is damaged itself.

Found by a review of the on-disk home; every test here failed on the code it was written
against. The index is a cache of the directories (I5): a rebuild must index everything it
can read and count what it cannot, never stop at the first bad file nor drop a readable
request beside an unreadable one, and an index that lost its contents is rebuilt, not read
as "nothing is waiting".
"""

from __future__ import annotations

from pathlib import Path

from governance_support import park

from agent_core.engine import Engine
from approvals import scan_session_approvals
from sessions import FixedClock, Home, reindex


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
