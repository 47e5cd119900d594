"""Prometheus metrics, counted from observer events into a registry of the bot's own.

Each bot gets its own ``CollectorRegistry`` (never the process-global one), so two bots
in one test process count separately. Counters move when an event arrives (``emit``);
the gauges that describe state (sessions by state, pending approvals, whether the socket
is up) are read at scrape time: ``render()`` awaits the counting source once, then
writes the text format.

Label values are bounded: event types are mapped to a fixed set, tools come from the
registry, methods from Slack's API, outcomes from fixed vocabularies, a retry's reason to
its status and the server's error type only where that is a word (``_retry_label``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from agent_core.observe import (
    ApprovalExpired,
    ApprovalRequested,
    CallsOverCap,
    DecisionRecorded,
    EnvelopeAcked,
    Event,
    MessageStored,
    ModelCall,
    ModelRetried,
    OutboxDepth,
    SlackApiCall,
    ToolExecuted,
)
from sessions.records import SessionState

__all__ = ["CONTENT_TYPE", "CountsSource", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Returns {"sessions": {state: n}, "approvals_pending": n} (see ``Index.tally``).
CountsSource = Callable[[], Awaitable[Mapping[str, Any]]]
LinkUp = Callable[[], bool]

# Acks must land within Slack's 3 s; the interesting part is the low milliseconds.
_ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
# Request → decision: seconds for an on-call engineer, days for a change board.
_WAIT_BUCKETS = (10, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400)

# A retry's reason is signoff's own phrase ("timed out", "connection refused") or the
# status and the error type the server said ("529 overloaded_error"): a compatible server
# may say a sentence there, a count or an id, a new series for each.
_STATUS_REASON = re.compile(r"(\d{3}) (.*)", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_]{1,64}")


def _retry_label(reason: str) -> str:
    """``reason`` as the ``reason`` label: a server's error type kept only when it is a
    word (letters and underscores), else the status alone. The trace keeps it whole."""
    said = _STATUS_REASON.fullmatch(reason)
    if said is None or _WORD.fullmatch(said.group(2)):
        return reason
    return said.group(1)


class _StateGauges(Collector):
    """``signoff_sessions{state}``, ``signoff_approvals_pending`` and
    ``signoff_socket_connected`` from the snapshot ``Metrics.render`` took."""

    def __init__(self, link_up: LinkUp | None) -> None:
        self.link_up = link_up
        self.snapshot: Mapping[str, Any] | None = None

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("signoff_sessions", "Sessions by state", labels=["state"])
        yield GaugeMetricFamily("signoff_approvals_pending", "Approvals waiting for a decision")
        yield GaugeMetricFamily("signoff_socket_connected", "1 while the Socket Mode link is up")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self.snapshot
        if snapshot is not None:
            sessions = GaugeMetricFamily("signoff_sessions", "Sessions by state", labels=["state"])
            counts = snapshot.get("sessions", {})
            for state in SessionState:
                sessions.add_metric([state.value], float(counts.get(state.value, 0)))
            yield sessions
            yield GaugeMetricFamily(
                "signoff_approvals_pending",
                "Approvals waiting for a decision",
                value=float(snapshot.get("approvals_pending", 0)),
            )
        if self.link_up is not None:
            yield GaugeMetricFamily(
                "signoff_socket_connected",
                "1 while the Socket Mode link is up",
                value=1.0 if self.link_up() else 0.0,
            )


class Metrics:
    """The bot's metrics; an ``Observer`` (pass it where events are emitted)."""

    def __init__(
        self, *, counts: CountsSource | None = None, link_up: LinkUp | None = None
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.counts = counts
        r = self.registry
        self.events = Counter(
            "signoff_events", "Events API envelopes by outcome", ["type", "outcome"], registry=r
        )
        self.ack_seconds = Histogram(
            "signoff_ack_seconds", "Envelope arrival to ack", buckets=_ACK_BUCKETS, registry=r
        )
        self.approvals = Counter(
            "signoff_approvals", "Approval requests and their outcomes", ["outcome"], registry=r
        )
        self.approval_wait = Histogram(
            "signoff_approval_wait_seconds",
            "Request to final decision (approved, denied or expired)",
            buckets=_WAIT_BUCKETS,
            registry=r,
        )
        self.tool_calls = Counter(
            "signoff_tool_calls", "Tool calls by outcome", ["tool", "outcome"], registry=r
        )
        self.model_calls = Counter(
            "signoff_model_calls",
            "Model calls (ok, error, cancelled, discarded)",
            ["provider", "outcome"],
            registry=r,
        )
        self.model_retries = Counter(
            "signoff_model_retries",
            "Model calls tried again, by why (529 overloaded_error, timed out, …)",
            ["provider", "reason"],
            registry=r,
        )
        self.model_tokens = Counter(
            "signoff_model_tokens", "Model tokens", ["provider", "direction"], registry=r
        )
        self.model_cost = Counter("signoff_model_cost_usd", "Model spend in USD", registry=r)
        self.model_usage_missing = Counter(
            "signoff_model_usage_missing",
            "Model calls answered without their usage: tokens and cost not counted",
            ["provider"],
            registry=r,
        )
        self.slack_calls = Counter(
            "signoff_slack_api_calls",
            "Slack Web API attempts by outcome (ok, error, ratelimited)",
            ["method", "outcome"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "signoff_outbox_depth", "Slack writes waiting in the outbox", registry=r
        )
        self._state = _StateGauges(link_up)
        r.register(self._state)
        # Series an alert divides by exist from the start, at 0.
        for outcome in ("requested", "approved", "denied", "expired"):
            self.approvals.labels(outcome)
        for kind in ("app_mention", "message"):
            for outcome in ("stored", "duplicate", "ignored", "dropped", "quarantined", "deferred"):
                self.events.labels(kind, outcome)

    def bind(self, *, counts: CountsSource | None = None, link_up: LinkUp | None = None) -> None:
        """Attach the scrape-time sources once what they read exists."""
        if counts is not None:
            self.counts = counts
        if link_up is not None:
            self._state.link_up = link_up

    def emit(self, event: Event) -> None:
        match event:
            case MessageStored():
                self.events.labels(event.event_type, event.outcome).inc()
            case EnvelopeAcked():
                self.ack_seconds.observe(event.seconds)
            case ApprovalRequested():
                self.approvals.labels("requested").inc()
            case DecisionRecorded():
                self.approvals.labels(event.verdict).inc()
                self.approval_wait.observe(max(0.0, event.wait_seconds))
            case ApprovalExpired():
                self.approvals.labels("expired").inc()
                self.approval_wait.observe(max(0.0, event.wait_seconds))
            case ToolExecuted():
                self.tool_calls.labels(event.tool, event.outcome).inc()
            case CallsOverCap():
                for tool in event.tools:  # never ran: counted apart from those that did
                    self.tool_calls.labels(tool, "over_cap").inc()
            case ModelCall():
                self.model_calls.labels(event.provider, event.outcome).inc()
                # Apart, as billed: input at the input price, the prompt cache's writes
                # and reads at theirs; the four add up to every token of the call.
                for direction, tokens in (
                    ("input", event.input_tokens),
                    ("output", event.output_tokens),
                    ("cache_write", event.cache_write_tokens),
                    ("cache_read", event.cache_read_tokens),
                ):
                    if tokens:
                        self.model_tokens.labels(event.provider, direction).inc(tokens)
                if event.usd > 0:
                    self.model_cost.inc(event.usd)
                if not event.usage_reported:
                    self.model_usage_missing.labels(event.provider).inc()
            case ModelRetried():
                self.model_retries.labels(event.provider, _retry_label(event.reason)).inc()
            case SlackApiCall():
                self.slack_calls.labels(event.method, event.outcome).inc()
            case OutboxDepth():
                self.outbox_depth.set(event.depth)
            case _:
                pass  # the rest are for logs

    async def render(self) -> bytes:
        """The Prometheus text format, with state gauges counted now."""
        if self.counts is not None:
            self._state.snapshot = await self.counts()
        return generate_latest(self.registry)
