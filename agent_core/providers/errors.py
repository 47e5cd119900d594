"""Errors raised by the provider adapters: what a failed model call raises.

Every error a ``Model.complete`` call raises on purpose is a ``ProviderError``; its
``str()`` is a short sentence fit to show a user in the thread. Nothing in any message or
``repr`` ever contains the API key: server-supplied text is scrubbed before use.

    ProviderError                       transient  when
    ├── ProviderConfigError             no         bad SIGNOFF_MODEL, missing key / base URL,
    │                                              unreadable price table
    ├── ProviderAuthError               no         401 invalid key, 403 permission denied
    ├── ProviderQuotaError              no         out of credit / spend limit (429 with a
    │                                              quota code, 402)
    ├── ProviderRequestError            no         400/413/422, other 4xx: the request was refused
    │   ├── ProviderModelNotFoundError  no         404 for the model name
    │   └── TooManyToolsError           no         more tools than the provider takes in a
    │                                              request: never sent (``tool_limit``)
    ├── ProviderResponseError           no         2xx whose body we cannot use (a garbled
    │                                              stream or JSON cut short: after retries)
    ├── ProviderRateLimitError          yes        429 after retries were exhausted
    ├── ProviderOverloadedError         yes        529 / 503 / overloaded_error after retries
    ├── ProviderServerError             yes        408/409/other 5xx after retries
    ├── ProviderTimeoutError            yes        no answer within the timeout, after retries
    └── ProviderConnectionError         yes        connection refused / DNS / TLS, after retries
        └── ProviderReplyCutError       yes        an answer began (a stream, an error's body),
                                                   then broke off midway, after retries

``transient`` says whether the same call could succeed later without anyone changing the
configuration; the retry loop has already spent its attempts either way. How an API
failure becomes one of these, and the sentence it says, is ``failure``.
"""

from __future__ import annotations

from typing import ClassVar

from sessions import SignoffError

__all__ = [
    "ProviderAuthError",
    "ProviderConfigError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderModelNotFoundError",
    "ProviderOverloadedError",
    "ProviderQuotaError",
    "ProviderRateLimitError",
    "ProviderReplyCutError",
    "ProviderRequestError",
    "ProviderResponseError",
    "ProviderServerError",
    "ProviderTimeoutError",
]


class ProviderError(SignoffError):
    """A model call failed; ``str(err)`` is the user-presentable reason."""

    transient: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        attempts: int = 1,
        request_id: str | None = None,
        error_type: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.attempts = attempts
        self.request_id = request_id
        self.error_type = error_type
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, provider={self.provider!r}, "
            f"status={self.status!r}, attempts={self.attempts!r})"
        )


class ProviderConfigError(ProviderError):
    """The configuration cannot work: fix the environment, not the network.

    ``reason`` is one of ``bad_spec``, ``missing_key``, ``bad_key``, ``missing_base_url``,
    ``bad_base_url``, ``bad_price_table``.
    """

    def __init__(self, message: str, *, reason: str, provider: str = "") -> None:
        super().__init__(message, provider=provider, attempts=0)
        self.reason = reason


class ProviderAuthError(ProviderError):
    """The key was rejected (401) or lacks permission (403)."""


class ProviderQuotaError(ProviderError):
    """The account is out of credit or over a spend limit: waiting will not help."""


class ProviderRequestError(ProviderError):
    """The API refused the request as malformed or too large (4xx)."""


class ProviderModelNotFoundError(ProviderRequestError):
    """The model name is unknown to the API (404)."""


class ProviderResponseError(ProviderError):
    """The API answered 2xx but the body is not a usable reply."""


class ProviderRateLimitError(ProviderError):
    transient = True


class ProviderOverloadedError(ProviderError):
    transient = True


class ProviderServerError(ProviderError):
    transient = True


class ProviderTimeoutError(ProviderError):
    transient = True


class ProviderConnectionError(ProviderError):
    transient = True


class ProviderReplyCutError(ProviderConnectionError):
    """The server was reached and began its reply, which broke off: not unreachable."""
