"""Engine benchmarks (issue: core engine), scripted model at zero latency, fsync on.

1. Per-turn overhead: one message → session → model turn → completed, against the bare
   durable writes (small file + fsync) a turn performs, counted in the same run.
2. Extra resident memory for 10,000 sessions parked awaiting approval, from a baseline
   taken before the warm-up.
3. At 1k / 10k / 100k sessions on disk, in-process: ``engine.decide`` → approved tool
   start, the trace of a 10-session lineage with 10,000 events, and ``Engine.open`` with
   recovery. The Slack click path and ``signoff run``'s start-up are in scale_bench.py.
   The filler sessions are hard-linked copies of a template session directory: this
   part follows the storage layout (``Home.sessions_dir``).
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
from agent_core.history import thread_history
from agent_core.model import ModelReply, RawToolCall
from agent_core.scripted import ScriptedModel
from agent_core.surface import RecordingSurface
from agent_core.tools import ToolContext, ToolRegistry, tool
from approvals import Policy
from bot.trace_view import render_history
from sessions import (
    Home,
    InboxMessage,
    SessionFiles,
    SessionRecord,
    SessionState,
    SessionStore,
    ThreadKey,
    Transition,
    atomic,
)

from .report import median, ms, p99, table

POLICY = Policy.from_mapping({"default": {"expires_after": "30d"}}, source="bench")


def _msg(thread: ThreadKey, ts: str, text: str = "hello") -> InboxMessage:
    return InboxMessage(
        thread=thread, ts=ts, user="U0ALICE", text=text, received_at="2026-01-01T00:00:00Z"
    )


def _thread(n: int) -> ThreadKey:
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
        thread = _thread(i % 20)
        with _SyncCounter() as counter:
            start = time.perf_counter()
            await engine.ingest(_msg(thread, f"{1800000000 + i}.000100"))
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
        await engine.ingest(_msg(_thread(i), f"{1700000000 + i}.000100"))
        await engine.idle()
    surface.cards.clear()
    for i in range(200, 200 + count):
        await engine.ingest(_msg(_thread(i), f"{1700000000 + i}.000100"))
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


def _template(home: Home) -> tuple[SessionRecord, Path]:
    record = SessionStore(home).create(
        thread=_thread(0), parent_id=None, cause="message", session_md="bench filler\n"
    )
    directory = home.session_dir(record.id)
    files = SessionFiles(directory)
    files.append_transcript({"role": "user", "text": "filler", "user": "U0ALICE", "ts": "1.1"})
    files.trace("message", {"text": "filler"})
    return record, directory


def _populate(home: Home, total: int) -> list[SessionRecord]:
    """``total`` completed sessions, cloned by hard links from a template (fast).

    A fresh template every 50,000 clones: ext4 allows 65,000 links to one file.
    """
    now = "2026-01-01T00:00:00.000Z"
    records: list[SessionRecord] = []
    templates: list[Path] = []
    for i in range(total):
        if i % 50_000 == 0:
            template, template_dir = _template(home)
            templates.append(template_dir)
        sid = f"sess_{i:012x}"
        target = home.sessions_dir / sid
        shutil.copytree(template_dir, target, copy_function=os.link)
        record = template.model_copy(
            update={
                "id": sid,
                "thread": _thread(100_000 + i),
                "state": SessionState.COMPLETED,
                "transitions": (
                    *template.transitions,
                    Transition(state=SessionState.COMPLETED, at=now),
                ),
            }
        )
        (target / "session.json").unlink()
        (target / "session.json").write_text(record.model_dump_json())
        records.append(record)
    for directory in templates:
        shutil.rmtree(directory)
    return records


async def _index_filler(home: Home, records: list[SessionRecord]) -> None:
    idx = await Engine.open_index(home)
    for start in range(0, len(records), 5000):
        await idx.put_sessions(records[start : start + 5000])
    await idx.close()


started_at: list[float] = []


@tool(requires_human_approval=True)
def bench_action(n: int, ctx: ToolContext) -> str:
    """A gated no-op that records when it started."""
    started_at.append(time.perf_counter())
    return "done"


async def at_scale(total: int) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="signoff-bench-"))
    home = Home(root)
    home.ensure()
    atomic.set_fsync(False)
    await _index_filler(home, _populate(home, total))
    registry = ToolRegistry([bench_action])
    gated = ModelReply(
        tool_calls=(RawToolCall(id="c1", name="bench_action", arguments='{"n":1}'),),
        stop_reason="tool_use",
    )
    surface = RecordingSurface()
    model = ScriptedModel([gated], repeat_last=True, record=False)
    engine = await Engine.open(
        home=home, model=model, registry=registry, surface=surface, policy=POLICY
    )
    for i in range(20):
        await engine.ingest(_msg(_thread(i), f"{1700000000 + i}.000100", "go"))
        await engine.idle()
    # A 10-session lineage with 10,000 events for the trace.
    lineage_thread = _thread(99)
    for i in range(10):
        await engine.ingest(_msg(lineage_thread, f"{1700000099 + i}.000200", "go"))
        await engine.idle()
        head = (await engine.rt.index.thread_head(lineage_thread)) or ""
        files = SessionFiles(home.session_dir(head))
        for j in range(1000 - len(files.read_trace(resolve_payloads=False))):
            files.trace("tool_finished", {"call_id": f"c{j}", "status": "ok", "content": "x" * 80})
    await engine.close()
    atomic.set_fsync(True)

    model = ScriptedModel([ModelReply(text="ok")], repeat_last=True, record=False)
    start = time.perf_counter()
    engine = await Engine.open(
        home=home, model=model, registry=registry, surface=surface, policy=POLICY
    )
    await engine.recover()
    await engine.idle()
    startup = time.perf_counter() - start

    decision: list[float] = []  # in-process engine.decide; the Slack click path: bench click
    for capsule in list(surface.cards)[:20]:
        started_at.clear()
        begin = time.perf_counter()
        await engine.decide(capsule.id, user="U0BOB", approve=True)
        await engine.idle()  # the tool stamped its own start time on the way
        decision.append(started_at[0] - begin)
    head = (await engine.rt.index.thread_head(lineage_thread)) or ""
    traces = []
    for _ in range(5):
        begin = time.perf_counter()
        text = render_history(thread_history(home, head))
        traces.append(time.perf_counter() - begin)
    assert text.count("sess_") >= 10
    await engine.close()
    shutil.rmtree(root)
    return {"decision": median(decision), "trace": median(traces), "startup": startup}


async def scale_table(counts: list[int]) -> str:
    results = {n: await at_scale(n) for n in counts}
    base = results[counts[0]]
    rows = []
    for n, r in results.items():
        rows.append(
            [f"{n:,}", ms(r["decision"]), f"{r['decision'] / base['decision']:.2f}x",
             ms(r["trace"]), f"{r['trace'] / base['trace']:.2f}x",
             ms(r["startup"]), f"{r['startup'] / base['startup']:.2f}x"]
        )  # fmt: skip
    return table(
        "At scale, in-process (targets: decision < 50 ms, trace < 200 ms, start-up < 2 s; "
        "ratios vs the smallest; the click path and signoff run's start-up: bench click, startup)",
        ["sessions on disk", "engine.decide→tool start", "ratio", "trace 10×1k events", "ratio",
         "Engine.open + recover", "ratio"],
        rows,
    )  # fmt: skip
