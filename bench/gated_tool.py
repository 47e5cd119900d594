"""The gated tool of the benchmarks, loaded by ``signoff run`` as ``SIGNOFF_TOOLS=bench.gated_tool``.

It appends the wall-clock time it started to ``$SIGNOFF_HOME/bench-tool-starts`` so a
bench can measure decision → tool start from outside the process.
"""

from __future__ import annotations

import time

from agent_core.tools import ToolContext, tool

__all__ = ["STARTS_FILE", "TOOLS", "bench_gated_action"]

STARTS_FILE = "bench-tool-starts"


@tool(requires_human_approval=True)
def bench_gated_action(n: int, ctx: ToolContext) -> str:
    """A gated no-op that records when it started.

    Args:
        n: any number
    """
    with (ctx.home / STARTS_FILE).open("a") as out:
        out.write(f"{time.time():.6f}\n")
    return "done"


TOOLS = [bench_gated_action]
