"""Logs, metrics and the observer hook, each on its own: JSON lines and their redaction,
text only at DEBUG, counters and state gauges in the Prometheus text format, an observer
that raises never reaching the caller, and how Slack attempts are classified."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.http_retry.response import HttpResponse

from agent_core.observe import (
    ApprovalExpired,
    ApprovalRequested,
    DecisionRecorded,
    EnvelopeAcked,
    MessageStored,
    ModelCall,
    OutboxDepth,
    RecordingObserver,
    SlackApiCall,
    ToolExecuted,
    guarded,
)
from bot.envelopes import Fate, Outcome, stored_event
from bot.event_log import EventLog
from bot.logs import log_event, redact, setup_logging
from bot.metrics import Metrics
from bot.slack_calls import classify
from sessions import ThreadKey

THREAD = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1796196763.801871")
BOT_TOKEN = "xoxb-1234567890-abcdefghijkl"
APP_TOKEN = "xapp-1-A0LOCAL-1-abcdef012345"
API_KEY = "sk-ant-api03-abcdefghijklmnop"


@pytest.fixture
def logs() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    setup_logging(format="json", level="INFO", stream=stream)
    try:
        yield stream, logging.getLogger("signoff.test")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_structured_record_is_one_json_line_with_the_ids(
    logs: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = logs
    log_event(
        log, "decision", thread=THREAD, approval_id="appr_1", user="U0BOB", verdict="approved"
    )
    (line,) = lines(stream)
    assert line["event"] == "decision" and line["level"] == "info"
    assert line["ts"].endswith("Z") and line["logger"] == "signoff.test"
    assert (line["team"], line["channel"], line["thread_ts"]) == (
        "T0LOCAL",
        "C0OPS",
        "1796196763.801871",
    )
    assert (line["approval_id"], line["user"], line["verdict"]) == ("appr_1", "U0BOB", "approved")


def test_message_text_is_kept_only_at_debug(logs: tuple[io.StringIO, logging.Logger]) -> None:
    stream, log = logs
    log_event(log, "message_stored", thread=THREAD, text="restart the payments db")
    assert "text" not in lines(stream)[0]
    log.setLevel(logging.DEBUG)
    try:
        log_event(log, "message_stored", thread=THREAD, text="restart the payments db")
    finally:
        log.setLevel(logging.NOTSET)
    assert lines(stream)[1]["text"] == "restart the payments db"


def _stored_and_failed(log: logging.Logger, odd: str) -> None:
    """A person's ``odd`` text logged at DEBUG, then an error quoting it; every character
    written is printable but the line breaks between and inside records."""
    log.setLevel(logging.DEBUG)
    try:
        log_event(log, "message_stored", thread=THREAD, text=odd)
        try:
            raise RuntimeError(odd)
        except RuntimeError:
            log.exception("failed: %s", odd)
    finally:
        log.setLevel(logging.NOTSET)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    written = handler.stream.getvalue()
    assert all(char.isprintable() or char == "\n" for char in written), ascii(written)


def test_a_record_stays_one_line_for_every_line_break_unicode_knows(
    logs: tuple[io.StringIO, logging.Logger],
) -> None:
    # json.dumps(ensure_ascii=False) escapes \n but not U+2028, U+2029 or NEL, which
    # str.splitlines() (and log shippers that follow Unicode) take for line breaks: what a
    # person wrote (at DEBUG) or an error's text split one record into several. Nor an
    # 8-bit CSI (U+009B, which xterm acts on like ESC [), a right-to-left override or
    # DEL, which reached the terminal showing the log as commands.
    stream, log = logs
    odd = "one\u2028two\u2029three\x85four\nfive \x9b2J\x9b31m \u202eipa\u202c \x7f\U000e0041"
    _stored_and_failed(log, odd)
    stored, failed = lines(stream)
    assert stored["text"] == odd
    assert failed["event"] == f"failed: {odd}" and odd in failed["exc"]


def test_a_terminal_s_text_record_is_one_line_that_acts_on_nothing() -> None:
    # On a terminal the log is text: what a person wrote (at DEBUG) or an error's text was
    # written as it is, so ESC sequences retitled or cleared the operator's terminal and
    # a line break forged a record of its own.
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    setup_logging(format="text", level="INFO", stream=stream)
    odd = "restart \x1b]0;pwned\x07\x1b[2J\x9b31mapi\n2026-12-05T07:00:00.000Z INFO forged"
    try:
        _stored_and_failed(logging.getLogger("signoff.test"), odd)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    stored, failed = stream.getvalue().split("\n", 1)
    assert "message_stored" in stored and "\\x1b]0;pwned\\x07" in stored
    assert "forged" in stored  # kept, on its record's line
    assert failed.split()[1] == "ERROR" and "failed: restart \\x1b]0;pwned" in failed
    assert "Traceback" in failed and "RuntimeError: restart \\x1b]0;pwned" in failed


def test_secrets_are_scrubbed_from_messages_fields_and_tracebacks(
    logs: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = logs
    log.warning("connecting with %s and %s", BOT_TOKEN, APP_TOKEN)
    log_event(log, "model_error", error=f"401 for key {API_KEY}")
    try:
        raise RuntimeError(f"Authorization: Bearer {BOT_TOKEN}")
    except RuntimeError:
        log.exception("call failed")
    out = stream.getvalue()
    for secret in (BOT_TOKEN, APP_TOKEN, API_KEY):
        assert secret not in out
    first, second, third = lines(stream)
    assert first["event"] == "connecting with [redacted] and [redacted]"
    assert second["error"] == "401 for key [redacted]"
    assert "[redacted]" in third["exc"] and "RuntimeError" in third["exc"]


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        (
            "body: {'url': 'wss://wss-primary.slack.com/link/?ticket=1a2b-3c4d&app_id=A0X'}",
            "body: {'url': 'wss://wss-primary.slack.com/link/?ticket=[redacted]&app_id=A0X'}",
        ),
        ('{"url": "wss://x/link/?ticket=1a2b"}', '{"url": "wss://x/link/?ticket=[redacted]"}'),
        (
            "url=wss%3A%2F%2Fx%2F%3Fticket%3D1a2b%26app_id",
            "url=wss%3A%2F%2Fx%2F%3Fticket%3D[redacted]%26app_id",
        ),
    ],
)
def test_a_socket_mode_ticket_is_scrubbed_in_every_shape(text: str, scrubbed: str) -> None:
    """The ticket in the URL apps.connections.open answers opens a connection as the bot;
    slack_sdk logs that answer at DEBUG (tests/e2e/test_e2e_debug_log_tickets.py)."""
    assert redact(text) == scrubbed


def test_redact_leaves_ids_and_ordinary_words_alone() -> None:
    assert redact("support_ticket=OPS-1234 closed") == "support_ticket=OPS-1234 closed"
    text = "sess_01HX appr_01HX U0BOB C0OPS 1796196763.801871 task-runner sk-short"
    assert redact(text) == text


def test_text_format_on_a_terminal_and_json_otherwise() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        tty, pipe = Tty(), io.StringIO()
        setup_logging(stream=tty)
        log_event(logging.getLogger("signoff.test"), "socket_up", reason="hello")
        setup_logging(stream=pipe)
        log_event(logging.getLogger("signoff.test"), "socket_up", reason="hello")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert tty.getvalue().rstrip().endswith("signoff.test: socket_up reason=hello")
    assert json.loads(pipe.getvalue())["reason"] == "hello"


def test_the_event_log_writes_what_an_operator_needs(
    logs: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, _ = logs
    events = EventLog()
    events.emit(MessageStored(thread=THREAD, event_type="app_mention", outcome="stored"))
    events.emit(MessageStored(thread=None, event_type="message", outcome="ignored", reason="x"))
    events.emit(EnvelopeAcked(envelope_type="events_api", seconds=0.002))
    events.emit(
        SlackApiCall(
            method="chat.update",
            outcome="error",
            error="message_not_found",
            channel="C0OPS",
            thread_ts="1700000000.000100",
        )
    )
    events.emit(
        ToolExecuted(tool="restart_service", outcome="ok", ms=12.5, session_id="s", thread=THREAD)
    )
    written = lines(stream)
    got = [(line["event"], line["level"]) for line in written]
    assert got == [
        ("message_stored", "info"),
        ("slack_api_error", "warning"),
        ("tool_executed", "info"),
    ]
    failed = written[1]
    assert (failed["channel"], failed["thread_ts"]) == ("C0OPS", "1700000000.000100")


def samples(metrics_text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics_text)
        for s in family.samples
    }


async def test_metrics_count_events_and_read_state_at_scrape_time() -> None:
    state = {"sessions": {"completed": 3, "awaiting_approval": 1}, "approvals_pending": 1}

    async def counts() -> dict[str, Any]:
        return state

    link = {"up": True}
    metrics = Metrics(counts=counts, link_up=lambda: link["up"])
    emit = metrics.emit
    emit(MessageStored(thread=THREAD, event_type="app_mention", outcome="stored"))
    emit(MessageStored(thread=THREAD, event_type="message", outcome="duplicate"))
    emit(EnvelopeAcked(envelope_type="events_api", seconds=0.004))
    emit(
        ApprovalRequested(
            approval_id="a", session_id="s", thread=THREAD, tool="restart_service", requester="U"
        )
    )
    emit(
        DecisionRecorded(
            approval_id="a",
            session_id="s",
            thread=THREAD,
            tool="restart_service",
            user="U0BOB",
            verdict="approved",
            wait_seconds=42,
        )
    )
    emit(
        ApprovalExpired(approval_id="b", session_id="s", thread=THREAD, tool="t", wait_seconds=9e4)
    )
    emit(ToolExecuted(tool="restart_service", outcome="ok", ms=5, session_id="s", thread=THREAD))
    emit(
        ModelCall(provider="anthropic", outcome="ok", input_tokens=100, output_tokens=20, usd=0.01)
    )
    emit(SlackApiCall(method="chat.postMessage", outcome="ratelimited", error="ratelimited"))
    emit(OutboxDepth(depth=4))
    got = samples((await metrics.render()).decode())

    def v(name: str, **labels: str) -> float:
        return got[(name, tuple(sorted(labels.items())))]

    assert v("signoff_events_total", type="app_mention", outcome="stored") == 1
    assert v("signoff_events_total", type="message", outcome="duplicate") == 1
    assert v("signoff_events_total", type="message", outcome="quarantined") == 0
    assert v("signoff_ack_seconds_count") == 1
    assert v("signoff_ack_seconds_bucket", le="0.005") == 1
    assert v("signoff_approvals_total", outcome="requested") == 1
    assert v("signoff_approvals_total", outcome="approved") == 1
    assert v("signoff_approvals_total", outcome="denied") == 0
    assert v("signoff_approvals_total", outcome="expired") == 1
    assert v("signoff_approval_wait_seconds_count") == 2
    assert v("signoff_approval_wait_seconds_bucket", le="60.0") == 1
    assert v("signoff_tool_calls_total", tool="restart_service", outcome="ok") == 1
    assert v("signoff_model_calls_total", provider="anthropic", outcome="ok") == 1
    assert v("signoff_model_tokens_total", provider="anthropic", direction="input") == 100
    assert v("signoff_model_tokens_total", provider="anthropic", direction="output") == 20
    assert v("signoff_model_cost_usd_total") == pytest.approx(0.01)
    assert v("signoff_slack_api_calls_total", method="chat.postMessage", outcome="ratelimited") == 1
    assert v("signoff_outbox_depth") == 4
    assert v("signoff_sessions", state="completed") == 3
    assert v("signoff_sessions", state="failed") == 0  # every state, so series never vanish
    assert v("signoff_approvals_pending") == 1
    assert v("signoff_socket_connected") == 1

    state["approvals_pending"] = 0
    link["up"] = False
    again = samples((await metrics.render()).decode())
    assert again[("signoff_approvals_pending", ())] == 0
    assert again[("signoff_socket_connected", ())] == 0


def test_each_bot_counts_in_its_own_registry() -> None:
    one, two = Metrics(), Metrics()
    one.emit(SlackApiCall(method="auth.test", outcome="ok"))
    assert one.slack_calls.labels("auth.test", "ok")._value.get() == 1
    assert two.slack_calls.labels("auth.test", "ok")._value.get() == 0


def test_an_observer_that_raises_never_reaches_the_caller(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def emit(self, event: object) -> None:
            raise RuntimeError("metrics backend on fire")

    kept = RecordingObserver()
    observer = guarded([Broken(), kept])
    event = OutboxDepth(depth=1)
    with caplog.at_level(logging.ERROR, logger="signoff.observe"):
        observer.emit(event)
    assert kept.events == [event]
    assert "Broken failed on OutboxDepth" in caplog.text


@pytest.mark.parametrize(
    ("status", "body", "error", "expected"),
    [
        (200, {"ok": True}, None, ("ok", "")),
        (200, {"ok": False, "error": "channel_not_found"}, None, ("error", "channel_not_found")),
        (429, {"ok": False, "error": "ratelimited"}, None, ("ratelimited", "ratelimited")),
        (200, {"ok": False, "error": "ratelimited"}, None, ("ratelimited", "ratelimited")),
        (503, None, None, ("error", "http 503")),
        (None, None, ConnectionResetError(), ("error", "ConnectionResetError")),
    ],
)
def test_slack_attempts_are_classified(
    status: int | None,
    body: dict[str, Any] | None,
    error: Exception | None,
    expected: tuple[str, str],
) -> None:
    response = None if status is None else HttpResponse(status_code=status, headers={}, body=body)
    assert classify(response, error) == expected


@pytest.mark.parametrize(
    ("fate", "outcome"),
    [("deferred", "deferred"), ("dropped", "dropped"), ("quarantined", "quarantined")],
)
async def test_an_envelope_left_unacked_is_counted_as_deferred_not_dropped(
    fate: str, outcome: str
) -> None:
    # `dropped` means malformed (an alert fires on it); an envelope whose store failed is
    # left for Slack to deliver again.
    payload = {"team_id": "T0LOCAL", "event_id": "Ev1", "event": {"type": "app_mention"}}
    event = stored_event(payload, Outcome(fate=Fate(fate), reason="disk full"))
    assert event.outcome == outcome
    metrics = Metrics()
    metrics.emit(event)
    got = samples((await metrics.render()).decode())
    key = ("signoff_events_total", (("outcome", outcome), ("type", "app_mention")))
    assert got[key] == 1
