"""Run the benchmarks and print their tables: ``python -m bench [--quick] [name …]``.

``--quick`` runs every bench but ``live`` and ``providers`` (those run when named, or in
the full run) at sizes that finish in about two minutes; without it the
sizes are issue 14's (100 threads, a 500-mention stream, a 300-message thread, homes of
10k; the full run takes about 15 minutes, building the 10k home through the engine 3-4 of
them). ``--long-thread`` makes the thread 1,000 messages; ``--big`` adds the 100k homes
(building one takes about an hour on 2 cores). ``--smoke`` is for tests/test_bench_smoke.py.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from . import (
    engine_bench,
    engine_scale_bench,
    expiry_bench,
    live_bench,
    loop_bench,
    ops_bench,
    scale_bench,
    thread_bench,
)

__all__ = ["BENCHES", "Sizes", "main"]


@dataclass(frozen=True)
class Sizes:
    loop: loop_bench.LoopSizes = field(default_factory=loop_bench.LoopSizes)
    long_thread: int = 300
    clicks: int = 20
    pending: tuple[int, ...] = (0, 1_000, 10_000)
    expired: tuple[int, ...] = (1_000,)
    parked: int = 10_000
    turns: int = 200
    ops_turns: int = 300
    starts: int = 3  # start-ups per home
    on_disk: tuple[int, ...] = (1_000, 10_000)


QUICK = Sizes(
    loop=loop_bench.LoopSizes(threads=20, rounds=2, mentions=100),
    long_thread=30, clicks=4, pending=(0, 200), expired=(200,), parked=500, turns=50,
    ops_turns=20, on_disk=(1_000,), starts=2,
)  # fmt: skip
SMOKE = Sizes(
    loop=loop_bench.LoopSizes(threads=2, rounds=1, fanout_delay=0.2, mentions=4),
    long_thread=3, clicks=1, pending=(0, 2), expired=(2,), parked=10, turns=5, ops_turns=3,
    on_disk=(10,), starts=1,
)  # fmt: skip

Bench = Callable[[Sizes], Awaitable[str]]


async def _loop(only: str, sizes: Sizes) -> str:
    return "\n".join(await loop_bench.loop_tables(sizes.loop, (only,)))


async def _providers(sizes: Sizes) -> str:
    # Imported when run: it loads both providers' SDKs (1.5 s of CPU), which every other
    # bench, and a name refused, would pay at each start.
    from . import providers_bench

    providers_bench._print(await asyncio.to_thread(providers_bench.run))
    return ""


BENCHES: dict[str, Bench] = {
    "throughput": lambda s: _loop("throughput", s),
    "fanout": lambda s: _loop("fanout", s),
    "ack": lambda s: _loop("ack", s),
    "thread": lambda s: thread_bench.long_thread_table(s.long_thread),
    "click": lambda s: scale_bench.click_table(s.clicks),
    "startup": lambda s: scale_bench.startup_table(list(s.pending), repeats=s.starts),
    "expiry": lambda s: expiry_bench.expiry_table(list(s.expired), repeats=s.starts),
    "turn": lambda s: engine_bench.per_turn(s.turns),
    "memory": lambda s: engine_bench.parked_memory(s.parked),
    "scale": lambda s: engine_scale_bench.scale_table(list(s.on_disk)),
    "live": lambda s: live_bench.live_table(),
    "ops": lambda s: ops_bench.overhead_table(s.ops_turns),
    "providers": _providers,
}
# Benches that only run when named, or in the full run (not --quick, not --smoke).
_SLOW = {"live", "providers"}


def _sizes(args: argparse.Namespace) -> Sizes:
    sizes = SMOKE if args.smoke else QUICK if args.quick else Sizes()
    changes: dict[str, object] = {}
    if args.long_thread:
        changes["long_thread"] = 1_000
    if args.big:
        changes["pending"] = (*sizes.pending, 100_000)
        changes["on_disk"] = (*sizes.on_disk, 100_000)
    return dataclasses.replace(sizes, **changes)  # type: ignore[arg-type]


async def _run(names: list[str], sizes: Sizes) -> None:
    loops = tuple(n for n in names if n in loop_bench.LOOP_BENCHES)
    for name in names:
        start = time.perf_counter()
        if name in loops[1:]:
            continue  # measured with the first: each bot is started once for all of them
        if name in loops:
            print("\n".join(await loop_bench.loop_tables(sizes.loop, loops)), flush=True)
        else:
            print(await BENCHES[name](sizes), flush=True)
        print(f"({', '.join(loops) if name in loops else name}: "
              f"{time.perf_counter() - start:.1f} s)", flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name",
                        help=f"benches to run (default: all): {', '.join(BENCHES)}")  # fmt: skip
    parser.add_argument("--only", choices=list(BENCHES), help="the same as naming one bench")
    parser.add_argument("--quick", action="store_true", help="small sizes, about two minutes")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (the smoke test)")
    parser.add_argument("--long-thread", action="store_true", help="a 1,000-message thread")
    parser.add_argument("--big", action="store_true", help="add 100k homes (slow to build)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)
    names = list(args.names) + ([args.only] if args.only else [])
    if not names:
        quick = args.quick or args.smoke
        names = [n for n in BENCHES if not (quick and n in _SLOW)]
    asyncio.run(_run(names, _sizes(args)))


if __name__ == "__main__":
    main()
