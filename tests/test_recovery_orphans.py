"""Start-up recovery adopts or closes a session its thread's HEAD does not reach.

A kill between creating a session and moving HEAD leaves one off the line. With the
thread's next (deterministic) id, recovery moves HEAD onto it and continues it. A session
off the line by any other id (a version before deterministic ids made them at random) has
nothing that continues from it: recovery closes it, and the thread goes on from HEAD.

Built on disk as the kill leaves it; the real CLI runs every step (``helpers_proc``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers_proc import (
    CHANNEL,
    TEAM,
    THREAD_TS,
    assert_healthy,
    cli,
    close_fork_servers,
    describe,
    head_id,
    lineage,
    ok,
    say,
    session_record,
)

from agent_core.worker import CRASHED
from sessions import Home, Index, SessionStore, ThreadKey
from sessions.ids import child_session_id

STATUS = "<@U0BOT> status of api"
FIRST, SECOND, THIRD = THREAD_TS, "1700000000.000200", "1700000000.000300"


@pytest.fixture(scope="module", autouse=True)
def _fork_servers() -> Iterator[None]:
    yield
    close_fork_servers()


def _random_id_orphan(home: Path, parent: str) -> str:
    """A running session the thread's HEAD does not reach, indexed as running: what an
    older version left when killed between creating a session and moving HEAD."""
    thread = ThreadKey(team=TEAM, channel=CHANNEL, thread_ts=THREAD_TS)
    record = SessionStore(Home(home)).create(
        thread=thread, parent_id=parent, cause="message", session_md="# orphan\n", running=True
    )

    async def index_it() -> None:
        index = await Index.open(home / "index.sqlite3")
        try:
            await index.put_session(record)
        finally:
            await index.close()

    asyncio.run(index_it())
    return record.id


def test_recovery_closes_a_session_off_the_threads_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok(say(home, STATUS, ts=FIRST))
    head = head_id(home)
    orphan = _random_id_orphan(home, parent=head)
    assert orphan != child_session_id(head)

    done = ok(cli(home, "recover"))
    assert "orphans=1" in done.stdout, describe(done)
    closed = session_record(home, orphan)
    assert closed["state"] == "failed", describe(done)
    assert closed["transitions"][-1]["reason"] == CRASHED
    assert head_id(home) == head, "HEAD moved onto a session off its line"
    # The thread goes on from HEAD, not from the orphan.
    ok(say(home, STATUS, ts=SECOND, thread_ts=THREAD_TS))
    assert head_id(home) == child_session_id(head)
    assert orphan not in lineage(home)
    assert_healthy(home, [FIRST, SECOND])


def test_recovery_adopts_the_threads_next_session_and_continues_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok(say(home, STATUS, ts=FIRST))
    head = head_id(home)
    # Killed with the thread's next session made and HEAD not yet on it.
    done = say(home, STATUS, ts=SECOND, failpoint="drain.after_session_created")
    assert done.returncode == -9, describe(done)
    made = child_session_id(head)
    assert session_record(home, made)["state"] == "running"
    assert head_id(home) == head

    done = ok(cli(home, "recover"))
    assert "orphans=0" in done.stdout, describe(done)
    # Adopted: on the line, closed as crashed with a successor that continues its turn.
    successor = child_session_id(made)
    assert lineage(home) == [head, made, successor], "the created session was not adopted"
    reason = session_record(home, made)["transitions"][-1]["reason"]
    assert reason == f"{CRASHED}; {successor} continues it"
    assert session_record(home, successor)["state"] == "completed"
    ok(say(home, STATUS, ts=THIRD))
    assert_healthy(home, [FIRST, SECOND, THIRD])
