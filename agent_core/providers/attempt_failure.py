"""One failed attempt of a model call, read as the ``Failure`` it is.

Each adapter's SDK exceptions are read in a module of their own (``anthropic_failures``,
``openai_failures``); what any attempt may raise besides is read here: a streamed reply
cut short or garbled, a 200 whose body is not whole JSON, the HTTP client's own errors,
the bound on a whole wait. A failure after a stream's 200 is read with what that 200's
headers say (``answered``). Server text is scrubbed of the API key (``secret``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from .failure import Failure
from .retry import describe_connection_error, transport_failure
from .stream_guard import GarbledReply, ReplyCut, StreamEnded

__all__ = ["Classify", "answered", "attempt_failure"]

Classify = Callable[[Exception], "Failure | None"]
"""An adapter's reading of its SDK's exceptions; ``None`` for any other."""


class _Heard(Exception):
    """A failed attempt already classified, with what its response's headers said."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.kind)
        self.failure = failure


def attempt_failure(exc: Exception, *, classify: Classify, secret: str) -> Failure | None:
    """``exc`` as the failure of an attempt; ``None`` when it is not one (a bug: raised)."""
    if isinstance(exc, _Heard):
        return exc.failure
    if isinstance(exc, GarbledReply):
        return Failure("unreadable", detail=str(exc))
    if isinstance(exc.__cause__, GarbledReply):  # signoff's own read (``read_bound``), which
        return Failure("unreadable", detail=str(exc.__cause__))  # an SDK sending wraps
    if isinstance(exc, ReplyCut):  # a body that ended early says so, not "connection dropped"
        ended = exc.__cause__
        detail = str(ended) if isinstance(ended, StreamEnded) else describe_connection_error(exc)
        return Failure("cut", detail=detail).without(secret)
    if isinstance(exc, json.JSONDecodeError):  # the SDK reading a 200 cut short
        return Failure("unreadable", detail="a body that is not whole JSON")
    failure = transport_failure(exc) or classify(exc)
    if failure is None and isinstance(exc, TimeoutError):  # the bound of a whole wait
        return Failure("timeout", detail="timed out")
    return None if failure is None else failure.without(secret)


@contextmanager
def answered(
    headers: Mapping[str, str], *, classify: Classify, secret: str, request_id_header: str
) -> Iterator[None]:
    """Failures in the block, which came after a response with these ``headers`` (a
    stream's 200), as they are with what those say (``Failure.heard``): an error sent
    midway, a drop or a body cut short named no request id, where the same error up
    front did; its ``x-should-retry: false`` leaves them untried, as Anthropic's SDK."""
    try:
        yield
    except Exception as exc:
        failure = attempt_failure(exc, classify=classify, secret=secret)
        if failure is None:  # not a failed attempt: as it is
            raise
        heard = failure.heard(headers, request_id_header=request_id_header)
        raise _Heard(heard.without(secret)) from exc
