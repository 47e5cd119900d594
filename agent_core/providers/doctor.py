"""``signoff doctor``: check the configured model with one near-free call.

The check sends a one-word prompt with a tiny output budget, once (no retries), and
says exactly what is wrong. ``DoctorReport.problem`` is a stable code for the CLI:

    bad_spec, missing_key, missing_base_url, bad_base_url   configuration, no call made
    invalid_key (401), permission_denied (403), quota        account / key
    model_not_found (404 naming the model)                   SIGNOFF_MODEL
    endpoint_not_found (other 404), unreachable, timeout     base URL / network
    rate_limited (429), overloaded (529/503), server_error   provider side
    bad_request, bad_response                                anything else
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import (
    ProviderAuthError,
    ProviderConfigError,
    ProviderConnectionError,
    ProviderError,
    ProviderModelNotFoundError,
    ProviderOverloadedError,
    ProviderQuotaError,
    ProviderRateLimitError,
    ProviderRequestError,
    ProviderResponseError,
    ProviderServerError,
    ProviderTimeoutError,
)
from .retry import RetryPolicy
from .select import model_from_spec, parse_spec
from .settings import ModelSettings

__all__ = ["DoctorReport", "doctor"]

_PROBLEMS: tuple[tuple[type[ProviderError], str], ...] = (
    (ProviderModelNotFoundError, "model_not_found"),
    (ProviderQuotaError, "quota"),
    (ProviderRateLimitError, "rate_limited"),
    (ProviderOverloadedError, "overloaded"),
    (ProviderServerError, "server_error"),
    (ProviderTimeoutError, "timeout"),
    (ProviderConnectionError, "unreachable"),
    (ProviderResponseError, "bad_response"),
)


@dataclass(frozen=True)
class DoctorReport:
    ok: bool
    provider: str
    model: str
    message: str
    latency_ms: float | None = None
    problem: str | None = None


def _problem(err: ProviderError) -> str:
    if isinstance(err, ProviderAuthError):
        return "permission_denied" if err.status == 403 else "invalid_key"
    for cls, code in _PROBLEMS:
        if isinstance(err, cls):
            return code
    if isinstance(err, ProviderRequestError) and err.status == 404:
        return "endpoint_not_found"
    return "bad_request"


def _budget_refusal(err: ProviderError) -> bool:
    """A 400 about the tiny output budget: the key, model and route all worked."""
    text = err.message.lower()
    return (
        isinstance(err, ProviderRequestError)
        and err.status == 400
        and ("max_tokens" in text or "max_completion_tokens" in text or "output limit" in text)
    )


_HINTS = {
    "unreachable": " Is the server running, and is the base URL right?",
    "timeout": " The server accepted the connection but did not answer in time.",
    "rate_limited": " The key and model are fine; wait a minute or raise the rate limits.",
    "overloaded": " The key and model are fine; the provider is busy right now.",
}


async def doctor(spec: str, *, env: Mapping[str, str], timeout_s: float = 15.0) -> DoctorReport:
    """Check ``spec`` (the value of ``SIGNOFF_MODEL``) against the real endpoint."""
    try:
        parsed = parse_spec(spec)
    except ProviderConfigError as err:
        return DoctorReport(False, "", "", err.message, problem=err.reason)
    if parsed is None:
        return DoctorReport(
            True,
            "offline",
            "",
            "SIGNOFF_MODEL is offline: signoff runs its built-in offline model; "
            "there is no provider to check.",
        )
    settings = ModelSettings(timeout_s=timeout_s, retry=RetryPolicy(max_attempts=1))
    try:
        model = model_from_spec(spec, env=env, settings=settings)
    except ProviderConfigError as err:
        return DoctorReport(False, parsed.provider, parsed.model, err.message, problem=err.reason)
    assert model is not None
    started = time.perf_counter()
    try:
        await model.ready()  # the SDK's import (about a second) is not the endpoint's time
        started = time.perf_counter()
        await model.ping()
        latency = (time.perf_counter() - started) * 1000
    except ProviderError as err:
        latency = (time.perf_counter() - started) * 1000
        if _budget_refusal(err):
            return DoctorReport(
                True,
                parsed.provider,
                parsed.model,
                f"{model.label} at {model.base_url} accepted the key and model "
                f"'{parsed.model}' (it declined the tiny test budget, which is fine).",
                latency,
            )
        problem = _problem(err)
        return DoctorReport(
            False,
            parsed.provider,
            parsed.model,
            err.message + _HINTS.get(problem, ""),
            latency,
            problem,
        )
    except Exception as exc:  # a bug or an SDK surprise: report it, never crash the CLI
        return DoctorReport(
            False,
            parsed.provider,
            parsed.model,
            f"The check failed unexpectedly ({type(exc).__name__}).",
            problem="bad_response",
        )
    finally:
        await model.aclose()
    return DoctorReport(
        True,
        parsed.provider,
        parsed.model,
        f"{model.label} at {model.base_url} answered in {latency:.0f} ms: the key works and "
        f"model '{parsed.model}' is available.",
        latency,
    )
