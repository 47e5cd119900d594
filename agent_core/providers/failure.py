"""One failed attempt of a model call (``Failure``), and the ``ProviderError`` it becomes.

Each adapter reduces an SDK exception to a ``Failure``: its kind, the status and what
the server said, the wait it asked for and whether it said to retry. The retry loop reads
``Failure.retryable``; when it stops, ``error_from_failure`` makes the last failure the
error raised, with its sentence for the thread. Server text is scrubbed of the API key
before it is kept or told.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from ..parsing import valid_text
from .errors import (
    ProviderAuthError,
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

__all__ = [
    "QUOTA_CODES",
    "Failure",
    "error_from_failure",
    "said_not_to_retry",
    "said_should_retry",
    "scrub",
]

QUOTA_CODES = frozenset(
    {"insufficient_quota", "enforced_spend_limit_reached", "billing_hard_limit_reached"}
)
_MAX_DETAIL = 300


@dataclass(frozen=True)
class Failure:
    """One failed attempt, reduced to what the retry policy and the message need."""

    kind: Literal["status", "timeout", "connection", "cut", "unreadable"]
    """``cut``: an answer that began and broke off (retried like a connection)."""
    status: int | None = None
    error_type: str | None = None
    error_code: str | None = None
    api_message: str | None = None
    request_id: str | None = None
    retry_after: float | None = None
    detail: str = ""
    should_retry: bool | None = None
    """The server's ``x-should-retry``, where it said ``true`` or ``false``: it decides."""

    def without(self, secret: str) -> Failure:
        """This failure with ``secret`` out of every field the server wrote: a gateway may
        name the key it refused in the error's type or hand it back as the request id.
        Half a surrogate pair goes too: what is told and recorded must encode as UTF-8."""

        def clean(text: str | None) -> str | None:
            return None if text is None else valid_text(scrub(text, secret))

        return replace(
            self,
            error_type=clean(self.error_type),
            error_code=clean(self.error_code),
            api_message=clean(self.api_message),
            request_id=clean(self.request_id),
            detail=valid_text(scrub(self.detail, secret)),
        )

    def heard(self, headers: Mapping[str, str], *, request_id_header: str) -> Failure:
        """This failure with what the headers of the response it came after say: a stream
        that fails after its 200 (an error sent midway, which the OpenAI SDK raises with no
        response; a drop; a body cut short) names its request id only there. Of its
        ``x-should-retry`` only ``false`` counts, as Anthropic's SDK leaves a failure after
        the headers untried on it: a 200's ``true`` speaks for the 200, not for an error
        sent after it (a quota, a refused request), which no SDK retries on it."""
        return replace(
            self,
            request_id=self.request_id or headers.get(request_id_header) or None,
            should_retry=self.should_retry
            if self.should_retry is not None
            else said_not_to_retry(headers),
        )

    @property
    def is_quota(self) -> bool:
        return self.status == 402 or (
            self.status == 429
            and (self.error_code in QUOTA_CODES or self.error_type in QUOTA_CODES)
        )

    @property
    def retryable(self) -> bool:
        """Whether the call is tried again: as the server's ``x-should-retry`` says, when
        it says (the SDKs obey it, and their retries are off), else as ``may_pass``."""
        return self.may_pass if self.should_retry is None else self.should_retry

    @property
    def may_pass(self) -> bool:
        """Whether the same call could succeed later, by the failure's kind and status."""
        if self.kind != "status":
            return True
        if self.status is None or self.is_quota:
            return False
        return self.status in (408, 409, 429) or self.status >= 500


def said_should_retry(headers: Mapping[str, str]) -> bool | None:
    """What a response's ``x-should-retry`` says (not a standard header; Anthropic's and
    OpenAI's servers send it, and their SDKs obey it): ``None`` when it says neither."""
    return {"true": True, "false": False}.get(headers.get("x-should-retry", "").strip().lower())


def said_not_to_retry(headers: Mapping[str, str]) -> Literal[False] | None:
    """``False`` when a 200's ``x-should-retry`` says ``false``, else ``None``: what such a
    response's header says of a failure after it (see ``Failure.heard``)."""
    return False if said_should_retry(headers) is False else None


def scrub(text: str | None, secret: str) -> str:
    """``text`` with ``secret`` removed, shortened to a readable length."""
    if not text:
        return ""
    if secret and len(secret) >= 4:
        text = text.replace(secret, "[redacted]")
    text = " ".join(text.split())
    if len(text) > _MAX_DETAIL:
        text = text[: _MAX_DETAIL - 1] + "…"
    return text


def _attempts(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"


def _wait(seconds: float) -> str:
    """A wait as a person reads it: a date's is fractional ("119.629 s") and a far one's
    large ("2.29974e+09 s"); past a year (a date in year 9999, ``inf``, more digits than a
    float holds) a count of days is no help: "about inf days" was said."""
    if not seconds < 365 * 86400:
        return "more than a year"
    if seconds < 10:
        return f"{seconds:.2g} s"
    if seconds < 3600:
        return f"{seconds:.0f} s"
    if seconds < 2 * 86400:
        return f"about {seconds / 3600:.0f} h"
    return f"about {seconds / 86400:,.0f} days"


def _looks_like_model(f: Failure, model: str) -> bool:
    markers = " ".join(x for x in (f.error_type, f.error_code, f.api_message) if x).lower()
    return "model" in markers or "not_found_error" in markers or (bool(model) and model in markers)


def error_from_failure(
    f: Failure,
    *,
    provider: str,
    attempts: int,
    model: str,
    endpoint: str,
    key_env: str,
    base_url_env: str,
    secret: str,
    timeout_s: float,
) -> ProviderError:
    """The ``ProviderError`` for the last failed attempt of a call."""
    detail = scrub(f.api_message, secret)
    said = f": {detail}" if detail else ""
    rid = f" (request-id {f.request_id})" if f.request_id else ""
    kind = f" {f.error_code or f.error_type}" if (f.error_code or f.error_type) else ""

    def build(cls: type[ProviderError], msg: str) -> ProviderError:
        return cls(
            valid_text(msg),  # server text is told and recorded: no half surrogate pairs
            provider=provider,
            status=f.status,
            attempts=attempts,
            request_id=f.request_id,
            error_type=f.error_code or f.error_type,
            retry_after=f.retry_after,
        )

    tried = _attempts(attempts)
    # A timeout, an unreadable reply or a cut one has a request id when its response
    # began (a stream that failed after its 200): the provider's support asks for it.
    if f.kind == "timeout":
        msg = f"{provider} did not answer within {timeout_s:g} s ({tried}).{rid}"
        return build(ProviderTimeoutError, msg)
    if f.kind == "unreadable":  # reached, and it answered: not a network failure
        msg = f"{provider} sent a reply signoff cannot read ({f.detail}) after {tried}.{rid}"
        return build(ProviderResponseError, msg)
    if f.kind == "cut":  # reached: the base URL and the network are not what to check
        msg = (
            f"{provider} answered, but its answer broke off midway ({f.detail}) after {tried}.{rid}"
        )
        return build(ProviderReplyCutError, msg)
    if f.kind == "connection":
        msg = f"Cannot reach {provider} at {endpoint} ({f.detail or 'connection failed'}) after {tried}."
        return build(ProviderConnectionError, msg)
    status = f.status or 0
    if status == 401:
        msg = f"{provider} rejected the API key (401{kind}). Check {key_env}.{rid}"
        return build(ProviderAuthError, msg)
    if status == 403:
        msg = f"{provider} refused access (403{kind}){said}{rid}"
        return build(ProviderAuthError, msg)
    if f.is_quota:
        msg = f"{provider} account is out of credit or over its spend limit ({status}{kind}){said}"
        return build(ProviderQuotaError, msg + rid)
    if status == 404:
        if _looks_like_model(f, model):
            msg = (
                f"{provider} does not know the model '{model}' (404{kind}){said}. "
                f"Check SIGNOFF_MODEL.{rid}"
            )
            return build(ProviderModelNotFoundError, msg)
        msg = (
            f"{provider} has no such endpoint at {endpoint} (404). "
            f"Check {base_url_env} (for OpenAI-style servers it usually ends in /v1).{rid}"
        )
        return build(ProviderRequestError, msg)
    # The wait the server asked for, whatever its status: one over what a call waits
    # ended it untried again, and "a few minutes" sent people back while it was down.
    wait = f"; it asks to retry after {_wait(f.retry_after)}" if f.retry_after else ""
    if status == 429:
        msg = f"{provider} is rate limiting us (429) after {tried}{wait}.{rid}"
        return build(ProviderRateLimitError, msg)
    if status in (503, 529) or f.error_type == "overloaded_error":
        later = wait or "; try again in a few minutes"
        msg = f"{provider} is overloaded ({status}) after {tried}{later}.{rid}"
        return build(ProviderOverloadedError, msg)
    if f.may_pass:  # a 500 the server said not to retry is still a server error
        later = f"{wait}." if wait else ""
        said = said.rstrip(".") if later else said  # "Internal error.; it asks …" otherwise
        msg = f"{provider} had a server error ({status}{kind}) after {tried}{said}{later}{rid}"
        return build(ProviderServerError, msg)
    msg = f"{provider} rejected the request ({status}{kind}){said}{rid}"
    return build(ProviderRequestError, msg)
