"""Cancel a task and wait until it has ended, without swallowing a cancel of our own.

The usual ``task.cancel(); with suppress(CancelledError): await task`` also swallows a
cancel aimed at the *caller* that arrives while it waits (a drain's deadline, a timeout
around a close), and the caller runs on as if nothing happened. ``asyncio.wait`` never
raises for the task it waits on, only for its own caller.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["cancel_and_wait"]


async def cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and wait until it has ended; how it ended is retrieved and dropped
    (the caller let it go), so nothing logs "exception was never retrieved"."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled():
        task.exception()
