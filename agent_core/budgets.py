"""Per-session limits that end a session cleanly as failed, with the reason recorded, and
the per-reply cap on tool calls (``call_cap``), which ends nothing: the calls over it are
told to the model as not run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .messages import Usage

__all__ = ["BudgetExceeded", "BudgetTracker", "Budgets"]

CostFunction = Callable[[str, Usage], float | None]


@dataclass(frozen=True)
class Budgets:
    max_steps: int = 12
    max_tokens: int = 200_000
    max_wall_seconds: float = 600.0
    max_usd: float | None = None
    # The most tool calls one model reply may make; the rest never run and ask nobody.
    max_calls_per_reply: int = 16


class BudgetExceeded(Exception):
    """A control-flow signal, not a failure of the engine: the session ends as failed."""


@dataclass
class BudgetTracker:
    budgets: Budgets
    started: float
    cost: CostFunction | None = None
    steps: int = 0
    usage: Usage = field(default_factory=Usage)
    usd: float = 0.0
    estimated: int = 0  # tokens of ``usage`` guessed for replies that came without usage

    def before_model_call(self, now: float) -> None:
        b = self.budgets
        if self.steps >= b.max_steps:
            raise BudgetExceeded(f"step budget exhausted ({b.max_steps} model turns)")
        if self.usage.total >= b.max_tokens:
            guessed = f"; {self.estimated} estimated" if self.estimated else ""
            raise BudgetExceeded(
                f"token budget exhausted ({self.usage.total} of {b.max_tokens}{guessed})"
            )
        if now - self.started >= b.max_wall_seconds:
            raise BudgetExceeded(f"time budget exhausted ({b.max_wall_seconds:.0f}s)")
        if b.max_usd is not None and self.usd >= b.max_usd:
            raise BudgetExceeded(f"cost budget exhausted (${self.usd:.4f} of ${b.max_usd:.2f})")

    def record(self, model: str, usage: Usage, *, estimate: Usage | None = None) -> None:
        """Count one model call; ``estimate`` instead of ``usage`` when the provider sent
        none (a budget that never grows would never stop a session)."""
        self.steps += 1
        counted = usage
        if estimate is not None and usage.total == 0:
            counted = estimate
            self.estimated += estimate.total
        self.usage = self.usage + counted
        if self.cost is not None:
            self.usd += self.cost(model, counted) or 0.0
