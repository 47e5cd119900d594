"""``RecentAnswers`` is shared across threads: a stop looks a person up on the socket
thread, a Home or ``/signoff pending`` on the engine's loop, through the same
``UserTeams``. Its ``put`` walks the oldest answers while it evicts; another thread's
``put`` meanwhile mutated the ``OrderedDict`` under that walk (``RuntimeError``)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from bot.membership import RecentAnswers

ROUNDS = 100_000
SIZE = 8


@pytest.fixture
def switching_often() -> Iterator[None]:
    """Threads switch every microsecond, so the two interleave inside ``put``."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_two_threads_putting_and_getting_at_once_leave_a_sound_cache(
    switching_often: None,
) -> None:
    clock = [0.0]

    def now() -> float:
        clock[0] += 0.001  # answers age: eviction by age walks the cache too
        return clock[0]

    answers: RecentAnswers[str] = RecentAnswers(ttl=0.005, now=now, size=SIZE)
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def hammer(name: str) -> None:
        start.wait()
        try:
            for i in range(ROUNDS):
                key = f"{name}{i % (SIZE * 2)}"
                answers.put(key, name)
                answers.get(key)
                len(answers)
        except BaseException as exc:  # what the other thread made it raise
            failures.append(exc)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in ("U", "W")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(answers) <= SIZE
