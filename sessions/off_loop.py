"""Blocking file work, run off the event loop on threads of its own.

A durable write waits for fsync (milliseconds on a real disk). On the event loop every
thread's turn would queue behind it; on threads, the writes of many turns wait together.
The pool is signoff's own: asyncio's default executor also runs plain (sync) tool
functions, and a slow tool must never leave a turn's records waiting for a thread.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

__all__ = ["off_loop"]

P = ParamSpec("P")
T = TypeVar("T")

_POOL = ThreadPoolExecutor(max_workers=64, thread_name_prefix="signoff-disk")


async def off_loop(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` on a disk thread; its exceptions are raised here."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POOL, functools.partial(fn, *args, **kwargs))
