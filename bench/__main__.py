"""Run the benchmarks and print their tables: ``python -m bench [--quick]``."""

from __future__ import annotations

import argparse
import asyncio
import os

from . import engine_bench, live_bench, ops_bench, providers_bench, slack_bench


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="1k and 10k sessions only")
    parser.add_argument(
        "--only", choices=["turn", "memory", "scale", "providers", "slack", "live", "ops"]
    )
    args = parser.parse_args()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)
    counts = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    if args.only in (None, "turn"):
        print(asyncio.run(engine_bench.per_turn()))
    if args.only in (None, "memory"):
        print(asyncio.run(engine_bench.parked_memory()))
    if args.only in (None, "scale"):
        print(asyncio.run(engine_bench.scale_table(counts)))
    if args.only in (None, "slack"):
        print(asyncio.run(slack_bench.ack_table()))
    if args.only in (None, "live"):
        print(asyncio.run(live_bench.live_table()))
    if args.only in (None, "ops"):
        print(asyncio.run(ops_bench.overhead_table()))
    if args.only in (None, "providers"):
        providers_bench._print(providers_bench.run())


if __name__ == "__main__":
    main()
