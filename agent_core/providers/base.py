"""What the Anthropic and OpenAI adapters share: identity, the client, the retry loop
(each failed attempt read by ``attempt_failure``), error mapping.

The API key lives only in the SDK client and in ``_secret`` (used to scrub server text);
it is in no ``repr``, log line or exception message.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sized
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Generic, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from ..model import ModelReply, RetryListener, RetryNotice, TextSink
from ..parsing import valid_text
from .attempt_failure import answered, attempt_failure
from .errors import ProviderError, ProviderResponseError
from .failure import Failure, error_from_failure
from .retry import RetryPolicy, Sleep, call_with_retries, retry_reason
from .sdk_import import SdkImport
from .settings import ModelSettings
from .stream_guard import GarbledReply, ReplyCut, StreamEnded, stream_guarded
from .token_counts import estimated_usage
from .tool_limit import ToolLimit, TooManyToolsError

__all__ = [
    "GarbledReply",
    "ProviderModel",
    "ReplyCut",
    "StreamEnded",
    "display_url",
    "stream_guarded",
]

T = TypeVar("T")

log = logging.getLogger("agent_core.providers")


class _Client(Protocol):
    async def close(self) -> None: ...


C = TypeVar("C", bound=_Client)


def display_url(url: str) -> str:
    """``url`` without credentials, query or fragment: safe to show and log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class ProviderModel(Generic[C]):
    """Base of the SDK-backed ``Model`` implementations (``C``: the SDK's client)."""

    provider: ClassVar[str] = ""
    """The ``SIGNOFF_MODEL`` prefix: ``anthropic``, ``openai``, ``openai-compatible``."""
    label: ClassVar[str] = ""
    """How the provider is named to users: "Anthropic", "OpenAI", ..."""
    key_env: ClassVar[str] = ""
    base_url_env: ClassVar[str] = ""
    path: ClassVar[str] = ""
    """The API path called, shown in connection and 404 messages."""
    request_id_header: ClassVar[str] = ""
    """The response header naming the request, for the provider's support."""
    sdk: ClassVar[str] = ""
    """The SDK's module: about a second to import, so start-up does not wait for it."""
    max_tools: ClassVar[int | None] = None
    """The most tools one request may carry, where the provider documents a cap
    (``tool_limit``); a request over it is never sent."""
    default_max_tokens: ClassVar[int] = 16_384
    """The output limit unless one is set: room for a reasoning model's thinking (o3 and
    gpt-5 think within it; 4096 left some with nothing to answer with), and no more than
    the smallest maximum of the models signoff names (gpt-4o's 16,384)."""

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str,
        settings: ModelSettings | None = None,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._model = model
        self._secret = api_key
        self._base_url = base_url
        self._settings = settings or ModelSettings()
        self._sleep = sleep
        self._rng = rng
        self._sdk = SdkImport(self.sdk)  # begun now, on a thread of its own
        self._made: C | None = None
        self._said_too_many: int | None = None  # the count over max_tools last logged
        self._said_no_usage = False  # the warning that the server reports no usage, once

    @property
    def name(self) -> str:
        return f"{self.provider}:{self._model}"

    @property
    def model(self) -> str:
        return self._model

    @property
    def base_url(self) -> str:
        return display_url(self._base_url)

    @property
    def settings(self) -> ModelSettings:
        return self._settings

    @property
    def max_tokens(self) -> int:
        """The output limit each call sends."""
        return self._settings.max_tokens or self.default_max_tokens

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self._model!r}, base_url={self.base_url!r})"

    async def _client(self) -> C:
        """The SDK's client, made at the first call once the SDK is imported."""
        if self._made is None:
            await self._sdk.ready()
        if self._made is None:  # not made meanwhile by a call that waited as well
            self._made = self._make_client()
        return self._made

    def _make_client(self) -> C:
        raise NotImplementedError

    async def aclose(self) -> None:
        if self._made is not None:
            await self._made.close()

    async def ready(self) -> None:
        """Wait for what the first call waits for before it is sent: the SDK's import
        (begun when the model was built) and the client."""
        await self._client()

    def _classify(self, exc: Exception) -> Failure | None:
        raise NotImplementedError

    def _check_tools(self, tools: Sized) -> None:
        """``TooManyToolsError`` for more tools than the provider takes: the API would
        refuse the request (a 400 that says nothing of what to do), so it is not sent.
        Logged once per count: a listing that grew past the limit while signoff ran is
        news for the operator, whom start-up's warning did not tell."""
        if self.max_tools is None or len(tools) <= self.max_tools:
            return
        refused = TooManyToolsError(ToolLimit(self.label, self.max_tools), len(tools))
        if self._said_too_many != len(tools):
            self._said_too_many = len(tools)
            log.warning("%s: %s", self.name, refused)
        raise refused

    def _failure(self, exc: Exception) -> Failure | None:
        return attempt_failure(exc, classify=self._classify, secret=self._secret)

    def _answered(self, headers: Mapping[str, str]) -> AbstractContextManager[None]:
        """Failures in the block as they are after a stream's 200 with ``headers``."""
        return answered(
            headers,
            classify=self._classify,
            secret=self._secret,
            request_id_header=self.request_id_header,
        )

    def _bounded(self) -> asyncio.Timeout:
        """``timeout_s`` over a whole wait for an answer (a streamed one's start): the SDKs'
        timeout bounds each read, so a server that answers a byte at a time starts it
        again with every byte and would hold the call for ever."""
        return asyncio.timeout(self._settings.timeout_s)

    def _endpoint(self) -> str:
        return self.base_url.rstrip("/") + self.path

    def _give_up(self, failure: Failure, attempts: int) -> ProviderError:
        return error_from_failure(
            failure,
            provider=self.label,
            attempts=attempts,
            model=self._model,
            endpoint=self._endpoint(),
            key_env=self.key_env,
            base_url_env=self.base_url_env,
            secret=self._secret,
            timeout_s=self._settings.timeout_s,
        )

    async def _call(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        policy: RetryPolicy | None = None,
        sink: TextSink | None = None,
    ) -> T:
        """``attempt`` with retries; a ``sink`` that is a ``RetryListener`` hears of them."""
        policy = policy or self._settings.retry
        on_retry = None
        if isinstance(sink, RetryListener):
            listener, attempts = sink, policy.max_attempts

            async def on_retry(failure: Failure, number: int, delay: float) -> None:
                notice = RetryNotice(
                    provider=self.label,
                    reason=retry_reason(failure),
                    attempt=number,
                    attempts=attempts,
                    delay_s=delay,
                    request_id=failure.request_id,
                )
                await listener.retrying(notice)

        return await call_with_retries(
            attempt,
            classify=self._failure,
            give_up=self._give_up,
            policy=policy,
            sleep=self._sleep,
            rng=self._rng,
            label=self.name,
            on_retry=on_retry,
        )

    def _unreadable(self, exc: Exception) -> ProviderResponseError:
        return ProviderResponseError(
            f"{self.label} sent a reply signoff cannot read ({type(exc).__name__}).",
            provider=self.label,
        )

    def _no_events(self, content_type: str) -> Exception:
        """What a streamed body with no event in it is: an event stream that ended before
        its first event was cut short (retried); anything else (a proxy's page) is no reply."""
        if content_type.split(";")[0].strip().lower() == "text/event-stream":
            return ReplyCut(StreamEnded("before its first event"))
        return self._not_a_reply()

    def _not_a_reply(self) -> ProviderResponseError:
        return ProviderResponseError(
            f"{self.label} at {self._endpoint()} answered with something that is not an "
            "API reply. Check the base URL.",
            provider=self.label,
        )

    def _with_usage(
        self, reply: ModelReply, body: dict[str, Any], *, reported: bool, thought: int = 0
    ) -> ModelReply:
        """``reply`` as is when its provider reported its usage; otherwise with the budgets'
        estimate beside it (``usage_missing``: the metrics count neither tokens nor cost
        for it, and count it apart), its ``thought`` characters of thinking counted as
        output like its answer, and a warning once a model. A gateway may leave it out."""
        if reported:
            return reply
        if not self._said_no_usage:
            self._said_no_usage = True
            log.warning(
                "%s reports no token usage; the budgets count about 4 characters a token",
                self.name,
            )
        estimate = estimated_usage(body, reply, thought=thought)
        return reply.model_copy(update={"usage_estimate": estimate})

    def _parse(self, reply: object, kind: type, parse: Callable[[], ModelReply]) -> ModelReply:
        """``parse()`` the SDK's reply; ``ProviderResponseError`` if it is not a ``kind``
        (the SDK hands back the raw text of a non-JSON 2xx) or does not convert."""
        if not isinstance(reply, kind):
            raise self._not_a_reply()
        try:
            parsed = parse()
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise self._unreadable(exc) from None
        # Recorded as is: half a surrogate pair would fail the write, and the turn with it.
        update = {"text": valid_text(parsed.text), "model": valid_text(parsed.model)}
        return parsed.model_copy(update=update)
