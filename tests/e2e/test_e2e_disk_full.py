"""A disk that fills up under a running bot: what Slack sends meanwhile is not acked (Slack
sends it again), nothing already acked is lost, and once there is room again every message
is answered and every session verifies; a click it cannot record is said to the clicker,
and the card stays live until one is recorded.

The home is on a small tmpfs of its own, filled by a file, as a volume fills: a real
ENOSPC from the kernel on every write signoff makes, not an error raised by a fake. Mounting
needs root (CAP_SYS_ADMIN); where that is missing the test says so and skips.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BotFactory
from signoff_e2e_kit import (
    OPS,
    approval_id_of,
    bot_messages,
    bot_reply,
    clean_env,
    decision,
    ephemeral,
    existing_message,
    has_buttons,
    mention,
    restarts,
    until,
    wait_card,
)
from test_e2e_ops_http import get, wait_status

from bot.app import SignoffBot
from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack

_SIZE = "8m"
SIGNOFF = str(Path(sys.executable).with_name("signoff"))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={_SIZE}", "tmpfs", str(mount)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _write_until_full(path: Path, size: int) -> None:
    with path.open("ab") as out:
        while True:
            out.write(b"\0" * size)
            out.flush()


def fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte (ENOSPC); the file that does it."""
    filler = disk / "filler"
    for size in (65536, 4096, 1):  # the last pages too
        with pytest.raises(OSError) as full:
            _write_until_full(filler, size)
        assert full.value.errno == errno.ENOSPC
    return filler


async def _bot_on(
    disk: Path, start_bot: BotFactory, slack: LocalSlack, **changes: object
) -> SignoffBot:
    """A bot whose home is on ``disk``, connected."""
    bot = await start_bot(home=disk / "home", **changes)
    await slack.wait_for_sockets(1, timeout=5)
    return bot


async def test_a_full_disk_leaves_mentions_unacked_and_loses_none(
    small_disk: Path, start_bot: BotFactory, slack: LocalSlack, settings: Settings
) -> None:
    home = small_disk / "home"
    bot = await _bot_on(small_disk, start_bot, slack)
    first = await mention(slack, "status of api")
    await bot_reply(slack, first, "service=api", timeout=20)
    await bot.engine.idle()

    filler = fill(small_disk)
    second = await mention(slack, "status of web")
    # Not stored, so not acked: Slack keeps it and sends it again.
    attempt = await slack.wait_for_delivery(
        lambda d: d.type == "events_api" and second in str(d.payload) and d.timed_out,
        timeout=20,
    )
    assert not attempt.acked
    # /readyz says what is wrong, for as long as it is.
    status, body = await get(bot, "/readyz")
    assert status == 503 and body["checks"]["home"].endswith("No space left on device"), body
    # A follow-up in the first thread while the disk is still full.
    await mention(slack, "status of db", thread_ts=first)

    os.unlink(filler)
    await wait_status(bot, 200)
    await bot_reply(slack, second, "service=web", timeout=30)
    await bot_reply(slack, first, "service=db", timeout=30)
    await bot.engine.idle()
    checked = await asyncio.to_thread(
        subprocess.run,
        [SIGNOFF, "verify"], env=clean_env(SIGNOFF_HOME=str(home)),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def test_a_click_the_full_disk_cannot_record_is_said_and_the_card_stays_live(
    small_disk: Path, start_bot: BotFactory, slack: LocalSlack, settings: Settings
) -> None:
    home = small_disk / "home"
    bot = await _bot_on(small_disk, start_bot, slack)
    thread = await mention(slack, "restart api")
    card = await wait_card(slack, thread, timeout=20)
    await bot.engine.idle()

    filler = fill(small_disk)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await ephemeral(slack, "U0BOB", "that was not done; please try again", timeout=20)
    assert has_buttons(existing_message(slack, channel=OPS, ts=card["ts"]))  # still undecided
    assert decision(home, approval_id_of(card)) is None

    os.unlink(filler)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await bot_reply(slack, thread, "restarts=1", timeout=30)
    await until(
        lambda: not has_buttons(existing_message(slack, channel=OPS, ts=card["ts"])),
        timeout=20,
        what="the card to lock",
    )
    assert restarts(home) == 1


# A gated tool that fills the disk it runs on (as a runaway dump would) and then succeeds:
# its result cannot be recorded.
FILLING_TOOL = '''
import os

from agent_core.tools import ToolContext, tool


@tool(requires_human_approval=True)
async def dump_heap(ctx: ToolContext) -> str:
    """Write a heap dump next to the service (needs an approval)."""
    with (ctx.home.parent / "dump-started").open("a") as runs:  # one x a run
        runs.write("x")
    fd = os.open(ctx.home.parent / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (65536, 4096, 1):
            try:
                while True:
                    os.write(fd, bytes(size))
            except OSError:
                pass
    finally:
        os.close(fd)
    return "heap dumped"


TOOLS = [dump_heap]
'''


async def test_an_approved_call_that_filled_the_disk_is_told_once_when_there_is_room(
    small_disk: Path,
    start_bot: BotFactory,
    slack: LocalSlack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # It ran, and the disk it filled refused the records that follow (the approval's
    # result, the session's end): the worker fails and retries. Once there is room the
    # thread is told how it ended, once, from what was recorded; it never runs again (I2).
    # Each retry on the full disk is one WARNING line saying so, not an ERROR with a
    # traceback for every try.
    caplog.set_level(logging.INFO, logger="signoff.engine")
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "filling_tools.py").write_text(FILLING_TOOL)
    monkeypatch.syspath_prepend(str(tools))
    bot = await _bot_on(
        small_disk, start_bot, slack, tool_modules=("filling_tools",), demo_tools=False
    )
    thread = await mention(slack, "call dump_heap")
    card = await wait_card(slack, thread, timeout=20)
    await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
    await until(lambda: bot.engine.errors, timeout=20, what="the worker to fail on ENOSPC")
    assert any(getattr(e, "errno", None) == errno.ENOSPC for e in bot.engine.errors)

    os.unlink(small_disk / "filler")  # the worker's own retry carries on from the disk
    await bot_reply(slack, thread, "finished: heap dumped", timeout=30)
    await bot.engine.idle()
    said = [m.get("text", "") for m in bot_messages(slack, thread)]
    assert sum("heap dumped" in text for text in said) == 1, said
    assert not any("uncertain" in text or "failed" in text for text in said), said
    assert not has_buttons(existing_message(slack, channel=OPS, ts=card["ts"]))
    assert (small_disk / "dump-started").read_text() == "x"  # it ran once
    retries = [r for r in caplog.records if r.getMessage().startswith("worker for")]
    assert retries, "the worker's retry was not logged"
    for record in retries:
        assert record.levelno == logging.WARNING and record.exc_info is None, record
        assert "No space left on device" in record.getMessage(), record.getMessage()
