"""``signoff doctor``: check the configured model with one near-free call.

The check asks for a one-word answer, once (no retries), the way the bot asks on every
mention: streamed, with a system prompt, a tool and the bot's output limit (and, for
Chat Completions, ``stream_options``), through the same ``stream`` as the bot. A bare
ping passed servers that refuse any of those, and every mention then failed. The limit
is a ceiling: a one-word answer spends a few tokens of it. It says exactly what is
wrong. ``DoctorReport.problem`` is a stable code for the CLI:

    bad_spec, missing_key, missing_base_url, bad_base_url   configuration, no call made
    invalid_key (401), permission_denied (403), quota        account / key
    model_not_found (404 naming the model)                   SIGNOFF_MODEL
    endpoint_not_found (other 404), unreachable, timeout     base URL / network
    rate_limited (429), overloaded (529/503), server_error   provider side
    output_limit (a 400 about max_tokens)                    SIGNOFF_MAX_OUTPUT_TOKENS
    bad_request, bad_response                                anything else (a server that
                                                             does not stream, or refuses
                                                             tools or stream_options)
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from ..messages import UserMessage
from ..model import NullSink, ToolSpec
from .errors import (
    ProviderAuthError,
    ProviderConfigError,
    ProviderConnectionError,
    ProviderError,
    ProviderModelNotFoundError,
    ProviderOverloadedError,
    ProviderQuotaError,
    ProviderRateLimitError,
    ProviderReplyCutError,
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
    (ProviderReplyCutError, "reply_cut"),  # before its base class: it was reached
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


_SYSTEM = "You are being checked by signoff doctor. Answer with the one word: ok"
_PROBE = ToolSpec(
    name="signoff_doctor_probe",
    description="Never call this: it is here to check that the server takes tools.",
    input_schema={"type": "object", "properties": {}},
)


def _limit_refusal(err: ProviderError) -> bool:
    """A 400 about the output limit: the one the bot sends, so every mention's too."""
    text = err.message.lower()
    return (
        isinstance(err, ProviderRequestError)
        and err.status == 400
        and ("max_tokens" in text or "max_completion_tokens" in text or "output limit" in text)
    )


_HINTS = {
    "bad_request": " signoff asks this way on every mention (streamed, with tools; Chat "
    "Completions with stream_options.include_usage), so every mention would fail.",
    "bad_response": " signoff streams every reply (server-sent events); a server that does "
    "not stream cannot answer a mention.",
    "unreachable": " Is the server running, and is the base URL right?",
    "timeout": " The server accepted the connection but did not answer in time.",
    "reply_cut": " The server answered, then its reply stopped short: a proxy between may "
    "cut long responses off.",
    "rate_limited": " The key and model are fine; wait a minute or raise the rate limits.",
    "overloaded": " The key and model are fine; the provider is busy right now.",
}


async def doctor(
    spec: str, *, env: Mapping[str, str], timeout_s: float = 15.0, max_tokens: int | None = None
) -> DoctorReport:
    """Check ``spec`` (the value of ``SIGNOFF_MODEL``) against the real endpoint, with
    ``max_tokens`` (``SIGNOFF_MAX_OUTPUT_TOKENS``; None: the provider's default)."""
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
    settings = ModelSettings(
        timeout_s=timeout_s, retry=RetryPolicy(max_attempts=1), max_tokens=max_tokens
    )
    try:
        model = model_from_spec(spec, env=env, settings=settings)
    except ProviderConfigError as err:
        return DoctorReport(False, parsed.provider, parsed.model, err.message, problem=err.reason)
    assert model is not None
    started = time.perf_counter()
    try:
        await model.ready()  # the SDK's import (about a second) is not the endpoint's time
        started = time.perf_counter()
        await model.stream(
            system=_SYSTEM, messages=[UserMessage(text="ok?")], tools=[_PROBE], sink=NullSink()
        )
        latency = (time.perf_counter() - started) * 1000
    except ProviderError as err:
        latency = (time.perf_counter() - started) * 1000
        if _limit_refusal(err):
            return DoctorReport(
                False,
                parsed.provider,
                parsed.model,
                f"{err.message} signoff sends an output limit of {model.max_tokens} tokens "
                "(SIGNOFF_MAX_OUTPUT_TOKENS); set one this model allows.",
                latency,
                "output_limit",
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
        f"{model.label} at {model.base_url} streamed an answer in {latency:.0f} ms to a request "
        f"like a mention's (tools, an output limit of {model.max_tokens}): the key works and "
        f"model '{parsed.model}' is available.",
        latency,
    )
