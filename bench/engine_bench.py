"""Engine benchmarks (issue: core engine), scripted model at zero latency, fsync on.

1. Per-turn overhead: one message → session → model turn → completed, against the bare
   durable writes (small file + fsync) a turn performs, counted in the same run.
2. Extra resident memory for 10,000 sessions parked awaiting approval, from a baseline
   taken before the warm-up.

The same engine with 1k / 10k / 100k sessions on disk is engine_scale_bench.py.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import time
from pathlib import Path

from agent_core.demo_fleet import demo_registry
from agent_core.engine import Engine
from agent_core.model import ModelReply, RawToolCall
from agent_core.scripted import ScriptedModel
from agent_core.surface import RecordingSurface
from approvals import Policy
from sessions import Home, InboxMessage, ThreadKey, atomic

from .report import median, ms, p99, table

POLICY = Policy.from_mapping({"default": {"expires_after": "30d"}}, source="bench")


def inbox_message(thread: ThreadKey, ts: str, text: str = "hello") -> InboxMessage:
    return InboxMessage(
        thread=thread, ts=ts, user="U0ALICE", text=text, received_at="2026-01-01T00:00:00Z"
    )


def thread_key(n: int) -> ThreadKey:
    return ThreadKey(team="T0BENCH", channel="C0BENCH", thread_ts=f"{1700000000 + n}.000100")


class _SyncCounter:
    """Counts fsync and fdatasync calls (still performing them) while active."""

    def __init__(self) -> None:
        self.fsync = 0
        self.fdatasync = 0
        self._real = (os.fsync, os.fdatasync)

    def __enter__(self) -> _SyncCounter:
        real_fsync, real_fdatasync = self._real

        def fsync(fd: int) -> None:
            self.fsync += 1
            real_fsync(fd)

        def fdatasync(fd: int) -> None:
            self.fdatasync += 1
            real_fdatasync(fd)

        os.fsync, os.fdatasync = fsync, fdatasync  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        os.fsync, os.fdatasync = self._real


def _bare_durable_writes(path: Path, fsyncs: int, fdatasyncs: int) -> float:
    """The floor: the same number of fsync and fdatasync calls on minimal appends."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    record = b'{"schema_version":1,"x":"' + b"y" * 120 + b'"}\n'
    try:
        start = time.perf_counter()
        for _ in range(fsyncs):
            os.write(fd, record)
            os.fsync(fd)
        for _ in range(fdatasyncs):
            os.write(fd, record)
            os.fdatasync(fd)
        return time.perf_counter() - start
    finally:
        os.close(fd)


async def per_turn(turns: int = 200) -> str:
    root = Path(tempfile.mkdtemp(prefix="signoff-bench-"))
    home = Home(root)
    model = ScriptedModel([ModelReply(text="ok")], repeat_last=True, record=False)
    engine = await Engine.open(
        home=home, model=model, registry=demo_registry(), surface=RecordingSurface()
    )
    times: list[float] = []
    counts: list[tuple[int, int]] = []
    for i in range(turns):
        thread = thread_key(i % 20)
        with _SyncCounter() as counter:
            start = time.perf_counter()
            await engine.ingest(inbox_message(thread, f"{1800000000 + i}.000100"))
            await engine.idle()
            times.append(time.perf_counter() - start)
        counts.append((counter.fsync, counter.fdatasync))
    await engine.close()
    fs, fds = sorted(counts)[len(counts) // 2]
    bare = [_bare_durable_writes(root / "bare.log", fs, fds) for _ in range(turns)]
    shutil.rmtree(root)
    med, bare_med = median(times), median(bare)
    rows = [
        [
            "signoff turn (ingest → completed)",
            ms(med),
            ms(p99(times)),
            f"{1 / med:.0f}",
            f"{med / bare_med:.2f}x",
        ],
        [
            f"bare durable writes ({fs} fsync + {fds} fdatasync)",
            ms(bare_med),
            ms(p99(bare)),
            f"{1 / bare_med:.0f}",
            "1.00x",
        ],
    ]
    return table(
        f"Per-turn engine overhead ({turns} turns, scripted model, fsync on)",
        ["what", "median", "p99", "turns/s", "vs bare writes"],
        rows,
    )


def _rss_kb() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


async def parked_memory(count: int = 10_000) -> str:
    atomic.set_fsync(False)  # memory does not depend on fsync; populating 10k parks does
    root = Path(tempfile.mkdtemp(prefix="signoff-bench-"))
    restart = ModelReply(
        tool_calls=(RawToolCall(id="c1", name="restart_service", arguments='{"service":"api"}'),),
        stop_reason="tool_use",
    )
    surface = RecordingSurface()
    engine = await Engine.open(
        home=Home(root), model=ScriptedModel([restart], repeat_last=True, record=False),
        registry=demo_registry(),
        surface=surface, policy=POLICY,
    )  # fmt: skip
    gc.collect()
    before = _rss_kb()  # before the warm-up: what the first sessions cost counts too
    for i in range(200):
        await engine.ingest(inbox_message(thread_key(i), f"{1700000000 + i}.000100"))
        await engine.idle()
    surface.cards.clear()
    for i in range(200, 200 + count):
        await engine.ingest(inbox_message(thread_key(i), f"{1700000000 + i}.000100"))
        await engine.idle()
        surface.cards.clear()  # the demo surface keeps cards; the Slack one does not
    gc.collect()
    after = _rss_kb()
    await engine.close()
    atomic.set_fsync(True)
    shutil.rmtree(root)
    delta_mb = (after - before) / 1024
    return table(
        f"Extra resident memory for {count:,} sessions parked awaiting approval (+200 of "
        "warm-up; baseline taken before the warm-up, engine open)",
        ["RSS before", "RSS after", "extra", "target", "vs target"],
        [[f"{before / 1024:.1f} MB", f"{after / 1024:.1f} MB", f"{delta_mb:.2f} MB", "5 MB",
          f"{delta_mb / 5:.2f}x"]],
    )  # fmt: skip
