"""Long-thread write amplification, and the shape of the home it leaves, from outside.

One thread of ``messages`` mentions, each sent when the last is answered, to ``signoff
run`` (0 s model). Written: ``write_bytes`` of ``/proc/<pid>/io`` over the thread, the
bytes the process dirtied for the storage layer (every rewrite and temp file counts; the
SQLite index and the WAL too; the log goes to a file outside the home at WARNING, a few
lines): every page an fsync flushed counts whole, so small records cost 4 KiB each. The
goal is judged on the bytes the files hold at the end (the index apart): what signoff
chose to write, with nothing copied twice. The final transcript is the thread's
conversation: every ``transcript.jsonl`` line that is not a reference to a parent's
(a child holds only its own lines), and, as a layout-independent check, the JSON of the
messages of the last model request.
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
        self.transcript = 0  # the conversation's own lines, references left out
        self.index = 0  # index.sqlite3 and its WAL: a rebuildable cache
        for here, dirs, files in os.walk(root):
            self.inodes += len(dirs) + len(files)
            self.sessions += sum(d.startswith("sess_") for d in dirs)
            if len(dirs) + len(files) > self.largest_dir[1]:
                self.largest_dir = (os.path.relpath(here, root), len(dirs) + len(files))
            for name in files:
                path = os.path.join(here, name)
                size = os.lstat(path).st_size
                self.bytes += size
                if name.startswith("index.sqlite3"):
                    self.index += size
                if name == "transcript.jsonl":
                    with open(path, "rb") as lines:
                        self.transcript += sum(
                            len(line) for line in lines if not line.startswith(b'{"continues"')
                        )

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
    transcript = shape.transcript or wire
    kept = shape.bytes - shape.index
    ratio = kept / max(1, transcript)
    name, entries = shape.largest_dir
    rows: list[list[object]] = [
        ["messages answered one by one", f"{messages} in {elapsed:.1f} s", "", ""],
        ["written (write_bytes of /proc/<pid>/io)", _kb(written), "", ""],
        ["files under the home at the end, index apart", _kb(kept), "", ""],
        ["the index (index.sqlite3*)", _kb(shape.index), "", ""],
        ["final transcript: the thread's own lines", _kb(shape.transcript), "", ""],
        ["final transcript: last model request's messages", _kb(wire), "", ""],
        ["files / final transcript", f"{ratio:.1f}x", "≤ 3x (1,000 messages)", met(ratio <= 3)],
        ["write_bytes / final transcript", f"{written / max(1, transcript):.1f}x", "", ""],
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
