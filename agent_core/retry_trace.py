"""Each retry of a model call, in the metrics and in its session's trace.

A provider that answers 529 three times before it answers makes a slow turn; the live view
says so while it waits, and ``signoff_model_retries_total`` counts it, but a person reading
the trace afterwards (``signoff trace``, ``/signoff trace``) saw only the answer. So each
retry is also a trace event: ``model_error`` (the attempt did fail) with a ``retry``
object — provider, reason, attempt, attempts, wait_s and, where the provider sent one,
request_id — beside the usual ``error`` text. The request id is each attempt's, not only
the last's: an operator chasing a provider's incident is asked for each.

Not a kind of its own, on purpose: the trace's kinds are a closed list that every version
validates each line against, and a version a rollback may return to would refuse the whole
trace of a session holding a kind it does not know ("not a trace event"). ``model_error``
with a free-form ``data`` is read by all of them, and shown as the error it was.

An early call (``early_call``) starts before its session exists: its retries are held
until the turn takes it, then written, in order, before any that follow.
"""

from __future__ import annotations

import logging
from typing import Any

from .model import RetryNotice, RetrySeen, provider_of
from .observe import ModelRetried
from .runtime import Runtime
from .session_run import SessionRun

__all__ = ["RetryLog", "retries_seen", "retry_data"]

log = logging.getLogger("agent_core.loop")


def retry_data(provider: str, notice: RetryNotice) -> dict[str, Any]:
    """The trace event's data for one retry; ``provider`` as the metrics label it."""
    rid = f", request-id {notice.request_id}" if notice.request_id else ""
    retry: dict[str, Any] = {
        "provider": provider,
        "reason": notice.reason,
        "attempt": notice.attempt,
        "attempts": notice.attempts,
        "wait_s": notice.delay_s,
    }
    if notice.request_id:  # left out, not null, where none came: as records before it
        retry["request_id"] = notice.request_id
    return {
        "error": (
            f"{notice.provider} call failed ({notice.reason}{rid}), attempt {notice.attempt} "
            f"of {notice.attempts}; tried again after {notice.delay_s:.1f} s"
        ),
        "retry": retry,
    }


class RetryLog:
    """One model call's retries, traced in ``run`` once it is bound (held until then)."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self._held: list[RetryNotice] = []
        self._run: SessionRun | None = None

    async def seen(self, notice: RetryNotice) -> None:
        if self._run is None:
            self._held.append(notice)
        else:
            self._write(self._run, notice)

    def bind(self, run: SessionRun) -> None:
        """Trace the retries so far in ``run``, and those to come as they come."""
        held, self._held, self._run = self._held, [], run
        for notice in held:
            self._write(run, notice)

    def _write(self, run: SessionRun, notice: RetryNotice) -> None:
        try:
            run.files.trace("model_error", retry_data(self.provider, notice))
        except OSError:  # a full disk: the call goes on, the metrics and the log have it
            log.exception("could not trace a retry of %s's model call", run.id)


def retries_seen(rt: Runtime, retries: RetryLog) -> RetrySeen:
    """What a model call of ``rt`` does with each of its retries: counts it (the metrics'
    ``signoff_model_retries_total``) and hands it to ``retries`` for the trace."""
    provider = provider_of(rt.model.name)

    async def seen(notice: RetryNotice) -> None:
        rt.observer.emit(ModelRetried(provider=provider, reason=notice.reason))
        await retries.seen(notice)

    return seen
