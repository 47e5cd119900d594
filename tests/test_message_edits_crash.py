"""An edit or deletion that comes after a kill cut the worker between recording a message
in its session and marking it taken: the message is still in ``inbox/new`` (no lock holds
it), yet a session has read it, and the next turn answers it as recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_support import transcript
from helpers_proc import THREAD_TS, cli, close_fork_servers, describe, ok, pending_ids, say

from agent_core.demo_fleet import demo_registry
from agent_core.engine import Engine
from agent_core.messages import UserMessage
from agent_core.offline import OfflineModel
from sessions import Home, ThreadKey

THREAD = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts=THREAD_TS)
LATER = "1700000000.000200"
EDITED = "1700000001.000001"  # when Alice edited it (Slack's edited.ts)


@pytest.fixture(scope="module", autouse=True)
def _fork_servers() -> Iterator[None]:
    yield
    close_fork_servers()


async def _engine(root: Path) -> Engine:
    return await Engine.open(
        home=Home(root), surface=None, model=OfflineModel(), registry=demo_registry()
    )


async def test_a_deletion_of_a_message_a_killed_turn_recorded_is_too_late(
    tmp_path: Path,
) -> None:
    """The deletion must say "read already" (the answer comes, as for any message read
    before its deletion), not "withdrawn" while the restart still asks for the restart."""
    root = tmp_path / "home"
    ok(say(root, "<@U0BOT> status of api", ts=THREAD_TS))
    killed = say(root, "restart api", ts=LATER, failpoint="drain.after_message_recorded")
    assert killed.returncode == -9, describe(killed)
    engine = await _engine(root)
    try:
        edited = await engine.revise(
            THREAD, LATER, user="U0ALICE", text="status of web", edited=EDITED
        )
        said = await engine.withdraw(THREAD, LATER)
    finally:
        await engine.close()
    ok(cli(root, "recover"))
    recorded = [m for m in transcript(Home(root)) if isinstance(m, UserMessage) and m.ts == LATER]
    assert [m.text for m in recorded] == ["restart api"]
    assert pending_ids(root)  # the restart it asked for is asked for: it was read
    assert (edited, said) == ("read_already", "read_already")
