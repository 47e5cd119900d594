"""What a 429's Retry-After means for delivery, in every form a server in front of Slack
may send it (Slack itself sends seconds)."""

from __future__ import annotations

import email.utils
import time

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.slack_errors import delivery_error


def _ratelimited(retry_after: str | None) -> SlackApiError:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    response = AsyncSlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": "ratelimited"},
        headers=headers,
        status_code=429,
    )
    return SlackApiError("ratelimited", response)  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(("after", "wait"), [("7", 7.0), ("1.5", 1.5), (None, 1.0)])
def test_a_retry_after_in_seconds_is_waited_as_given(after: str | None, wait: float) -> None:
    assert delivery_error(_ratelimited(after)).retry_after == wait


@pytest.mark.parametrize("after", ["0", "0.01", "-3"])
def test_a_retry_after_under_a_second_waits_a_second(after: str) -> None:
    # A proxy's "Retry-After: 0" was retried at once, about every 10 ms for as long as
    # its 429s lasted; Slack's own smallest wait is a second.
    assert delivery_error(_ratelimited(after)).retry_after == 1.0


def test_a_retry_after_date_in_the_past_waits_a_second() -> None:
    when = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert delivery_error(_ratelimited(when)).retry_after == 1.0


def test_a_retry_after_date_from_a_proxy_is_a_wait_not_a_crash() -> None:
    # float("Sat, 05 Dec 2026 …") raised ValueError: delivery logged it as a bug of
    # signoff's, with a traceback, on every 429 such a proxy sent.
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    error = delivery_error(_ratelimited(when))
    assert error.retry_after is not None and 25 <= error.retry_after <= 31
    assert not error.permanent


def test_a_retry_after_nobody_can_read_waits_a_second() -> None:
    error = delivery_error(_ratelimited("soon"))
    assert error.retry_after == 1.0


@pytest.mark.parametrize("after", ["inf", "1e12", "86400"])
def test_a_retry_after_beyond_ten_minutes_waits_ten_minutes(after: str) -> None:
    # A day (or "inf") from a proxy parked the thread's delivery that long, or until the
    # bot restarted; Slack asks for seconds.
    assert delivery_error(_ratelimited(after)).retry_after == 600.0


def test_a_retry_after_date_far_ahead_waits_ten_minutes() -> None:
    when = email.utils.formatdate(time.time() + 7 * 86400, usegmt=True)
    assert delivery_error(_ratelimited(when)).retry_after == 600.0
