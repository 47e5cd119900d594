"""`python -m bench` keeps running: the harness end to end at tiny sizes (not a benchmark;
no figure is checked, only that each table comes out)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_black_box_and_in_process_benches_print_their_tables() -> None:
    done = _bench("--smoke", "throughput", "turn", "expiry")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "bare Bolt: mentions/s" in done.stdout
    assert "2 expired while no bot ran" in done.stdout
    assert "signoff: CPU per mention" in done.stdout
    assert "Per-turn engine overhead" in done.stdout


def test_an_unknown_bench_is_refused_with_the_names() -> None:
    done = _bench("nonesuch")
    assert done.returncode == 2
    assert "throughput" in done.stderr


def test_the_transcript_bench_counts_the_trace_wherever_a_session_keeps_it() -> None:
    from bench.transcript_bench import _kind

    session = Path("sessions/ab/sess_ab0123456789")
    for rel in ("trace.jsonl", "payloads/000003-tool_finished.json", "logs/trace.jsonl"):
        assert _kind(session / rel) == "trace", rel
    assert _kind(session / "transcript.jsonl") == "transcript.jsonl"
    assert _kind(session / "tickets.jsonl") == "tickets"
    assert _kind(Path("sessions/sess_ab0123456789/transcript.jsonl")) == "transcript.jsonl"
    assert _kind(Path("index.sqlite3-wal")) == "index"
