"""Small helpers to time things and print tables with ratios against a baseline."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

__all__ = ["goal_row", "median", "met", "ms", "p99", "ratio", "table"]


def p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [list(map(str, header)), *[list(map(str, r)) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    line = "+".join("-" * (w + 2) for w in widths)
    out = [f"\n{title}", line]
    for n, row in enumerate(cells):
        out.append("|".join(f" {c:<{w}} " for c, w in zip(row, widths, strict=True)))
        if n == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)


def ratio(ours: float, baseline: float) -> float:
    """``ours / baseline``; a baseline too small to measure (CPU is counted in clock
    ticks, so a smoke-sized run of the bare bot may show none) gives infinity."""
    return ours / baseline if baseline else float("inf")


def met(ok: bool) -> str:
    return "yes" if ok else "NO"


def goal_row(what: str, value: str, ratio: float, goal: str, ok: bool) -> list[str]:
    """A row of a ``what | value | vs bare | goal | met`` table."""
    return [what, value, f"{ratio:.2f}x", goal, met(ok)]
