"""Long-thread write amplification, and the shape of the home it leaves, from outside.

One thread of ``messages`` mentions, each sent when the last is answered, to ``signoff
run`` (0 s model). Written: ``write_bytes`` of ``/proc/<pid>/io`` over the thread, the
bytes the process dirtied for the storage layer (every rewrite and temp file counts; the
SQLite index and the WAL too; the log goes to a file outside the home at WARNING, a few
lines). The sum of file sizes under the home would miss every overwritten or renamed-over
file, so it is shown only beside it. The final transcript is the largest
``transcript*.jsonl`` under the home (the head session's whole conversation), and, as a
layout-independent check, the JSON of the messages of the last model request.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from .procs import BotProc, Stack
from .report import met, table

__all__ = ["HomeShape", "home_shape", "long_thread_table"]


class HomeShape:
    def __init__(self, root: Path) -> None:
        self.inodes = 0
        self.bytes = 0
        self.sessions = 0
        self.largest_dir = ("", 0)
        self.largest_transcript = 0
        for here, dirs, files in os.walk(root):
            self.inodes += len(dirs) + len(files)
            self.sessions += sum(d.startswith("sess_") for d in dirs)
            if len(dirs) + len(files) > self.largest_dir[1]:
                self.largest_dir = (os.path.relpath(here, root), len(dirs) + len(files))
            for name in files:
                size = os.lstat(os.path.join(here, name)).st_size
                self.bytes += size
                if name.startswith("transcript") and name.endswith(".jsonl"):
                    self.largest_transcript = max(self.largest_transcript, size)

    @property
    def inodes_per_session(self) -> float:
        return self.inodes / max(1, self.sessions)


def home_shape(root: Path) -> HomeShape:
    return HomeShape(root)


async def _settled_write_bytes(bot: BotProc) -> int:
    """``write_bytes`` once it has not moved for half a second (late appends, WAL)."""
    last = -1
    while (now := bot.write_bytes()) != last:
        last = now
        await asyncio.sleep(0.5)
    return last


async def _long_thread(messages: int) -> tuple[int, HomeShape, int, float]:
    """(bytes written, shape of the home, last request's messages JSON size, seconds)."""
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as work:
        home = Path(work) / "home"
        async with Stack(work=Path(work)) as stack:
            bot = await stack.start_bot("signoff", home=home)
            before, start = await _settled_write_bytes(bot), time.perf_counter()
            thread = await stack.control.post("<@U0SIGNOFF> a long talk bench-0")
            await stack.control.reply_after(thread, thread, wait_s=120)
            for i in range(1, messages):
                text = f"<@U0SIGNOFF> and then? bench-{i}"
                ts = await stack.control.post(text, thread_ts=thread)
                await stack.control.reply_after(thread, ts, wait_s=120)
            elapsed = time.perf_counter() - start
            written = await _settled_write_bytes(bot) - before
            last = await stack.last_messages_bytes()
            shape = home_shape(home)
        return written, shape, last, elapsed


def _kb(n: float) -> str:
    return f"{n / 1024:,.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.1f} MB"


async def long_thread_table(messages: int) -> str:
    written, shape, wire, elapsed = await _long_thread(messages)
    transcript = shape.largest_transcript or wire
    ratio = written / max(1, transcript)
    name, entries = shape.largest_dir
    rows: list[list[object]] = [
        ["messages answered one by one", f"{messages} in {elapsed:.1f} s", "", ""],
        ["written (write_bytes of /proc/<pid>/io)", _kb(written), "", ""],
        ["files under the home at the end (sum of sizes)", _kb(shape.bytes), "", ""],
        ["final transcript: largest transcript*.jsonl", _kb(shape.largest_transcript), "", ""],
        ["final transcript: last model request's messages", _kb(wire), "", ""],
        ["written / final transcript", f"{ratio:.1f}x", "≤ 3x (1,000 messages)", met(ratio <= 3)],
        ["written / last request's messages", f"{written / max(1, wire):.1f}x", "", ""],
        ["sessions / inodes under the home", f"{shape.sessions} / {shape.inodes}", "", ""],
        ["inodes per session", f"{shape.inodes_per_session:.1f}", "≤ 8",
         met(shape.inodes_per_session <= 8)],
        [f"largest directory ({name})", entries, "≤ ~10k", met(entries <= 10_500)],
    ]  # fmt: skip
    return table(
        f"Long thread: {messages} messages in one thread, signoff run, 0 s model",
        ["what", "value", "goal", "met"],
        rows,
    )
