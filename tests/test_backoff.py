"""Every retry the engine schedules waits by one rule, which keeps working after 1,024
tries (``initial * 2 ** (n - 1)`` raised OverflowError there, ~17 hours into an outage,
and a failing thread worker was then retried at every sweep with a traceback each)."""

from __future__ import annotations

import pytest

from agent_core.backoff import Backoff
from agent_core.deferral import DEFERRAL_RETRY
from agent_core.thread_workers import WORKER_RETRY


@pytest.mark.parametrize(
    ("backoff", "first", "most"),
    [(WORKER_RETRY, 0.25, 60.0), (DEFERRAL_RETRY, 30.0, 600.0), (Backoff(), 0.5, 60.0)],
)
def test_each_retry_doubles_to_its_most_and_stays_there(
    backoff: Backoff, first: float, most: float
) -> None:
    assert [backoff.delay(n) for n in (1, 2, 3)] == [first, 2 * first, 4 * first]
    for attempt in (1_024, 1_025, 1_026, 10**6):
        assert backoff.delay(attempt) == most
