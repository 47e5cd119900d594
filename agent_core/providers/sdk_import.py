"""A provider SDK imported on a thread of its own, so that start-up does not wait for it.

The ``anthropic`` SDK takes about 0.8 s to import, ``openai`` about 0.3 s: most of
``signoff run``'s start-up until it connected to Slack (bench: ``startup``). A model
starts its SDK's import when it is built and waits for what is left of it at its first
call, which comes after the Socket Mode link is up.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib
import threading

__all__ = ["SdkImport"]


class SdkImport:
    """``import name`` begun now on a daemon thread; ``await ready()`` before using it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._done: concurrent.futures.Future[None] = concurrent.futures.Future()
        # Running, so that a call cancelled while it waits (a stop, an early call let go)
        # cannot cancel the import for every call after it: it is only stopped waiting.
        self._done.set_running_or_notify_cancel()
        threading.Thread(target=self._run, name=f"import {name}", daemon=True).start()

    def _run(self) -> None:
        try:
            importlib.import_module(self.name)
        except BaseException as exc:  # the caller's ready() raises it
            self._done.set_exception(exc)
        else:
            self._done.set_result(None)

    async def ready(self) -> None:
        """Returns once the module is imported (at once after the first time)."""
        if not self._done.done():
            with contextlib.suppress(Exception):  # the thread's error is looked at below
                await asyncio.wrap_future(self._done)
        if self._done.exception() is not None:
            # An import that failed on the thread (the import lock's deadlock detection
            # can fail one that raced another thread's): once more here, where its error,
            # if it is one, is the caller's to see.
            importlib.import_module(self.name)
