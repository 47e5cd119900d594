"""Per-thread logs read from many threads: a log being read holds up only its own readers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import sessions.followed_logs as followed_logs
from sessions import Home, ThreadKey
from sessions.jsonl import lines_since
from sessions.outbox_log import DoneLogs
from sessions.taken_log import TakenLog

A_TS, B_TS = "1700000000.000100", "1700000000.000200"


def _stall_reads_of(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[threading.Event, threading.Event]:
    """Reads of ``path`` stop inside their catch-up until the second event is set."""
    reading, release = threading.Event(), threading.Event()

    def stalled(at: Path, offset: int) -> tuple[int, list[tuple[int, bytes]]] | None:
        if at == path:
            reading.set()
            release.wait(10)
        return lines_since(at, offset)

    monkeypatch.setattr(followed_logs, "lines_since", stalled)
    return reading, release


def test_a_taken_log_being_read_holds_up_no_delivery_to_another_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(f'{{"ts":"{A_TS}"}}\n')
    b.write_text(f'{{"ts":"{B_TS}"}}\n')
    reading, release = _stall_reads_of(a, monkeypatch)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(TakenLog(a).has, A_TS)
        assert reading.wait(10)
        try:
            assert pool.submit(TakenLog(b).has, B_TS).result(timeout=5)
            assert not first.done()  # a's readers still wait their turn
        finally:
            release.set()
        assert first.result(timeout=10)


def test_an_outbox_log_being_read_holds_up_no_other_threads_look_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = DoneLogs(Home(tmp_path / "home"))
    one, two = (ThreadKey(team="T1", channel="C1", thread_ts=ts) for ts in (A_TS, B_TS))
    logs.append(one, [("reply-1", b'{"id":"reply-1"}')])
    logs.append(two, [("reply-2", b'{"id":"reply-2"}')])
    fresh = DoneLogs(logs.home)  # a process that has read neither yet
    reading, release = _stall_reads_of(fresh.path(one), monkeypatch)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(fresh.line, one, "reply-1")
        assert reading.wait(10)
        try:
            assert pool.submit(fresh.line, two, "reply-2").result(timeout=5) == b'{"id":"reply-2"}'
        finally:
            release.set()
        assert first.result(timeout=10) == b'{"id":"reply-1"}'
