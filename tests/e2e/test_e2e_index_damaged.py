"""An ``index.sqlite3`` that is no index signoff can read (random bytes, a SQLite file of
another program): ``signoff run`` stopped with "the index could not be used" and a pointer
to ``signoff reindex``, while the index is a cache of the directories (I5) that a start
may rebuild. It now sets the file aside under a name that says why, rebuilds the index,
logs one WARNING line saying so, and starts; the terminal commands, which must not rebuild
beside a bot, still stop with one line and leave the file as it is.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from helpers_proc import cli, describe
from loopback_ports import free_port
from ops_kit import RunProcess
from signoff_e2e_kit import OPS, approval_id_of, bot_reply, mention, wait_card

from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack

GARBAGE = bytes(range(256)) * 64


def _damage(index: Path, kind: str) -> bytes:
    """Put ``kind`` of damage where the index is; returns the bytes it left there."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)
    if kind == "garbage":
        index.write_bytes(GARBAGE)
    else:  # a database of another program, whose tables share our names
        with sqlite3.connect(index) as db:
            db.execute("CREATE TABLE sessions (name TEXT, notes TEXT)")
            db.execute("INSERT INTO sessions VALUES ('x', 'kept')")
        db.close()
    return index.read_bytes()


async def _park_a_request(slack: LocalSlack, settings: Settings, logs: Path) -> dict[str, object]:
    run = RunProcess(slack, settings.home, logs, http_port=free_port())
    try:
        await run.connected(slack)
        card = await wait_card(slack, await mention(slack, "restart api"))
        run.terminate()
        assert await run.exit_code(timeout=20) == 0, run.stderr()
    finally:
        run.kill()
    return card


@pytest.mark.parametrize("kind", ["garbage", "other_schema"])
async def test_run_sets_a_damaged_index_aside_and_rebuilds_it(
    slack: LocalSlack, settings: Settings, tmp_path: Path, kind: str
) -> None:
    card = await _park_a_request(slack, settings, tmp_path / "first")
    home = settings.home
    damaged = _damage(home / "index.sqlite3", kind)

    # A terminal command says so in one line and changes nothing.
    done = cli(home, "pending")
    assert done.returncode == 2, describe(done)
    assert len(done.stderr.splitlines()) == 1 and "signoff reindex" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert (home / "index.sqlite3").read_bytes() == damaged
    assert list(home.glob("index.sqlite3.*")) == []

    run = RunProcess(slack, home, tmp_path / "second", http_port=free_port())
    try:
        await run.connected(slack)
        # The request parked before is found again: its card still works.
        await slack.click_button(channel=OPS, ts=str(card["ts"]), user="U0BOB", action_id=APPROVE)
        await bot_reply(slack, str(card["thread_ts"]), "restart_service` finished", timeout=20)
        run.terminate()
        assert await run.exit_code(timeout=20) == 0, run.stderr()
    finally:
        run.kill()

    aside = list(home.glob("index.sqlite3.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == damaged  # kept for a look
    warned = [line for line in run.log_lines() if "index" in line["event"]]
    assert [(w["event"], w["level"]) for w in warned] == [("index_set_aside", "warning")]
    assert warned[0]["kept_as"] == str(aside[0])
    assert warned[0]["action"] == "rebuilt from the directories" and warned[0]["reason"]
    # And the terminal commands read the rebuilt index.
    listed = cli(home, "pending")
    assert listed.returncode == 0, describe(listed)
    assert approval_id_of(card) not in listed.stdout  # approved above
