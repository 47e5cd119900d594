"""Start-up on a home whose requests expired while no bot ran: ``signoff run`` from outside.

A team's bot down over a long weekend comes back to requests whose deadlines passed.
Expiring one writes its decision, its card's update and the thread's post, synced: far
more than finding a pending one. Measured from spawning ``signoff run`` to localslack
accepting its Socket Mode connection, to ``/readyz`` answering 200, and (expired homes)
to every expiry being recorded, beside the same number of requests still pending and an
empty home, in the same run. The homes are built through signoff's own engine (fsync
off), the expired ones on a clock a month back, and not timed.
"""

from __future__ import annotations

import functools
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sessions import FixedClock

from .procs import Stack
from .report import met, table
from .scale_bench import build_pending_home, startup

__all__ = ["expiry_table"]

# Asked a month before this runs (the engine's deadline is 24 h): long expired.
_LONG_AGO = FixedClock(datetime.fromtimestamp(time.time() - 30 * 86400, UTC))


def _all_decided(home: Path, count: int) -> bool:
    return len(list(home.glob("sessions/*/*/approvals/*.decision.json"))) >= count


async def expiry_table(counts: list[int], *, repeats: int = 2) -> str:
    rows = []
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as work:
        async with Stack(work=Path(work)) as stack:
            empty = Path(work) / "empty"
            empty.mkdir()
            base = min([await startup(stack, empty) for _ in range(repeats)])
            rows.append(["empty home", f"{base[0]:.2f} s", "1.00x", f"{base[1]:.2f} s", "", ""])
            for count in counts:
                pending, expired = Path(work) / f"pending-{count}", Path(work) / f"expired-{count}"
                await build_pending_home(pending, count)
                held = min([await startup(stack, pending) for _ in range(repeats)])
                rows.append([
                    f"{count:,} pending", f"{held[0]:.2f} s", f"{held[0] / base[0]:.2f}x",
                    f"{held[1]:.2f} s", "", "",
                ])  # fmt: skip
                # One start only: the first expires them all, a second would find none.
                await build_pending_home(expired, count, clock=_LONG_AGO)
                connect, ready, swept = await startup(
                    stack, expired, settled=functools.partial(_all_decided, expired, count)
                )
                rows.append([
                    f"{count:,} expired while no bot ran", f"{connect:.2f} s",
                    f"{connect / base[0]:.2f}x", f"{ready:.2f} s", f"{swept:.2f} s",
                    met(connect <= held[0] + 1.0),
                ])  # fmt: skip
    return table(
        "Start-up of signoff run on homes whose requests expired while no bot ran (process "
        f"start → Socket Mode connected, → /readyz 200, → every expiry recorded; best of "
        f"{repeats} where a home allows more than one start); goal: expired requests do not "
        "hold up the link (connected within 1 s of the same home still pending)",
        ["home", "→ connected", "vs empty", "→ ready", "→ all expired", "met"],
        rows,
    )
