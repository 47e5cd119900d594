"""A scripted model for tests and benchmarks: replies are given in advance."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .messages import Message
from .model import ModelReply, ToolSpec

__all__ = ["ScriptedModel"]

Step = ModelReply | Callable[[Sequence[Message]], ModelReply] | BaseException


class ScriptedModel:
    """Answers each call with the next step; a callable step sees the transcript.

    With ``repeat_last`` the final step answers forever (for benchmarks); otherwise
    running out of steps is a test failure and raises.
    """

    def __init__(
        self, steps: Sequence[Step], *, repeat_last: bool = False, record: bool = True
    ) -> None:
        self._steps = list(steps)
        self._repeat_last = repeat_last
        self._record = record
        self.calls: list[Sequence[Message]] = []

    @property
    def name(self) -> str:
        return "scripted"

    async def complete(
        self, *, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> ModelReply:
        if self._record:
            self.calls.append(list(messages))
        if not self._steps:
            raise AssertionError("ScriptedModel ran out of steps")
        step = self._steps[0] if self._repeat_last and len(self._steps) == 1 else self._steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step(messages) if callable(step) else step
