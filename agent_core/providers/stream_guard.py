"""A provider's stream of events, read so that every way it can go wrong is told apart.

A transport failure midway is raised as the adapter's own "broken stream" (``ReplyCut``:
retried like a dropped connection), an event that cannot be read as ``GarbledReply``, and a
stream that only sends keep-alives as a timeout: each reaches the retry loop as the
failure it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from typing import TypeVar

__all__ = ["GarbledReply", "ReplyCut", "ServerStopped", "StreamEnded", "stream_guarded"]

T = TypeVar("T")


class GarbledReply(Exception):
    """A streamed reply that cannot be read (an event that is not JSON, or that does not
    fit the events before it): the server was reached, so it is not told as a network
    failure, and retried like a broken stream. ``str()`` says what, without server text."""


class StreamEnded(EOFError):
    """A body that ended as a body ends (its last chunk; OpenAI's ``[DONE]``) before the
    API's last event: a server or a gateway ended the reply early, no connection was lost.
    ``str()`` is what it ended before, e.g. "the stream ended before message_stop"."""

    def __init__(self, before: str) -> None:
        super().__init__(f"the stream ended {before}")


class ServerStopped(StreamEnded):
    """A reply whose server said it broke it off (``convert_openai.INTERRUPTED``)."""

    def __init__(self, reason: str) -> None:
        EOFError.__init__(self, f"the server stopped it: {reason}")


class ReplyCut(Exception):
    """A streamed reply the server began (a 200, and maybe some of the reply) that broke
    off: the connection dropped, or the body ended before the API's last event. Retried
    like a dropped connection, but the server was reached, so it is not told as one that
    cannot be (which sent people to check a base URL and a network that were fine).
    ``str()`` says what ended it; ``__cause__`` is the transport's error, if any."""

    def __init__(self, what: BaseException) -> None:
        super().__init__(f"stream broke: {what}")
        self.__cause__ = what


async def stream_guarded(
    events: AsyncIterable[T],
    *,
    passes: tuple[type[Exception], ...],
    broken: Callable[[Exception], Exception],
    dropped: Callable[[Exception], bool] = lambda exc: False,
    stalled: Callable[[], Exception] | None = None,
    quiet_s: float = 0.0,
    progress: Callable[[T], bool] = lambda item: True,
    whole: Callable[[], bool] = lambda: False,
    whole_quiet_s: float = 0.0,
) -> AsyncGenerator[T, None]:
    """``events``, with a transport failure midway (the SDK lets the HTTP client's own
    exception through once a stream has begun) raised as ``broken(exc)``, which the
    retry loop understands; the SDK's ``passes`` errors go through as they are, but for
    those it raised for a connection lost midway (``dropped``): ``broken`` too.

    With ``stalled``: a stream that makes no ``progress`` for ``quiet_s`` raises
    ``stalled()`` (a timeout). Keep-alives (Anthropic's pings) reset the SDK's read
    timeout, so without this a server that only pings would hold the turn forever.

    Once ``whole()`` says the reply is complete, a quiet of ``whole_quiet_s`` ends the
    stream instead: a gateway that holds the connection open after the last event (no
    end marker) adds nothing worth the stall timeout, and the reply is not voided."""
    loop = asyncio.get_running_loop()
    iterator = aiter(events)
    deadline = loop.time() + quiet_s if stalled is not None else None
    while True:
        quiet = asyncio.timeout_at(deadline)
        try:
            async with quiet:  # never swallows a cancel, unlike wait_for on 3.11
                item = await anext(iterator)
        except StopAsyncIteration:
            return
        except GarbledReply:  # what signoff's own read of the bytes refused (``read_bound``)
            raise
        except passes as exc:
            if isinstance(refused := exc.__cause__, GarbledReply):  # wrapped by the SDK
                raise refused from None
            if dropped(exc):
                raise broken(exc) from exc
            raise
        except ValueError as exc:  # the SDK parsing an event's data: not the transport
            if stalled is not None and quiet.expired():
                if whole():
                    return
                raise stalled() from None
            raise GarbledReply(f"an event that is not JSON: {type(exc).__name__}") from exc
        except Exception as exc:
            if stalled is not None and quiet.expired():
                if whole():
                    return
                raise stalled() from None
            raise broken(exc) from exc
        if deadline is not None and progress(item):
            deadline = loop.time() + quiet_s
        yield item
        if deadline is not None and whole():  # the consumer has taken ``item`` in by now
            deadline = min(deadline, loop.time() + whole_quiet_s)
