"""One status call to Slack (a status line, an agent session), asked until it lands.

Setting a status is idempotent, so one that failed on the way or in Slack (a 5xx) is asked
again, twice; without that a session could show its stop button for ever. A surface the
workspace lacks is switched off (``SurfaceSupport.check``) and never asked again; any other
answer of Slack's only skips that update. When every try failed on the way, or Slack still
rate-limited it after the client's own waits, ``lost`` hears of it (the live view then leaves the status to the outbox, which is more patient). A
status that failed on the way while a newer one for the thread waits behind it is given
up (``superseded``): with a Slack that hangs, each try costs a whole timeout. ``lost``
hears of that too: the call may have landed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .slack_errors import answer_status, definite, slack_error
from .surface_support import SurfaceName, SurfaceSupport

__all__ = ["status_call"]

log = logging.getLogger("signoff.slack")

_TRIES = 3
_RETRY_S = 0.25


async def status_call(
    support: SurfaceSupport,
    surface: SurfaceName,
    method: str,
    call: Callable[[], Awaitable[Any]],
    *,
    lost: Callable[[], None] | None = None,
    superseded: Callable[[], bool] = lambda: False,
) -> dict[str, Any] | None:
    """Slack's answer, or None when the call did not take effect."""
    for attempt in range(1, _TRIES + 1):
        if not support.offers(surface):
            return None
        try:
            answer = await call()
        except Exception as exc:
            if support.check(surface, method, exc):
                return None
            # A 429 the client's own retries (Retry-After) outlasted is no verdict on the
            # status, only on now: left to the outbox's patience like a call lost on the way.
            limited = answer_status(exc) == 429 or slack_error(exc) == "ratelimited"
            refused = definite(exc) and not limited
            if not refused and superseded():
                log.info("%s failed: %s; a newer status follows", method, exc)
                if lost is not None:
                    lost()
                return None
            if refused or limited or attempt == _TRIES:
                log.info("%s failed: %s", method, slack_error(exc) or exc)
                if not refused and lost is not None:
                    lost()
                return None
            await asyncio.sleep(_RETRY_S * attempt)
            continue
        data = getattr(answer, "data", answer)
        return data if isinstance(data, dict) else {}
    return None
