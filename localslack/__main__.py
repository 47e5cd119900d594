"""`python -m localslack --port 0`: run a LocalSlack until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import math
import sys
from typing import NoReturn

from localslack.config import Timing, WorkspaceConfig
from localslack.server import LocalSlack


class _Parser(argparse.ArgumentParser):
    """A usage error in one line, like every other error here."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"localslack: {message} (see python -m localslack --help)\n")


def _port(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, not {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, not {text!r}")
    return value


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="python -m localslack", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=_port, default=0, help="0 picks a free port")
    parser.add_argument("--ack-timeout", type=_seconds, default=Timing().ack_timeout)
    parser.add_argument("--rate-limits", action="store_true", help="enforce Slack rate tiers")
    parser.add_argument(
        "--events",
        default=",".join(WorkspaceConfig().subscribed_events),
        help="comma-separated bot events to deliver",
    )
    parser.add_argument(
        "--scopes",
        default=",".join(WorkspaceConfig().scopes),
        help="comma-separated bot scopes (add assistant:write to make the app an agent)",
    )
    parser.add_argument("--home-tab", action="store_true", help="enable the app's Home tab")
    parser.add_argument(
        "--messages-tab", choices=("on", "read_only", "off"), default="on", help="the DM tab"
    )
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args(argv)


def _config(args: argparse.Namespace) -> WorkspaceConfig:
    base = WorkspaceConfig()
    config = dataclasses.replace(
        base,
        rate_limits=args.rate_limits,
        scopes=tuple(dict.fromkeys(s for s in args.scopes.split(",") if s)),
        subscribed_events=tuple(e for e in args.events.split(",") if e),
        home_tab_enabled=args.home_tab,
        messages_tab=args.messages_tab,
        timing=dataclasses.replace(base.timing, ack_timeout=args.ack_timeout),
    )
    return config


async def _serve(args: argparse.Namespace, config: WorkspaceConfig) -> None:
    async with LocalSlack(config, host=args.host, port=args.port) as slack:
        # Printed first and flushed so a parent process can read the address from stdout.
        print(f"LocalSlack listening on {slack.url}", flush=True)
        print(f"  api_url   {slack.api_url}", flush=True)
        print(f"  control   {slack.url}/_control", flush=True)
        print(f"  bot_token {slack.bot_token}", flush=True)
        print(f"  app_token {slack.app_token}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    try:
        config = _config(args)
    except ValueError as exc:  # e.g. an event subscribed without its scope
        print(f"localslack: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(args, config))
    except OSError as exc:  # taken, not an address here, or a host that does not resolve
        print(f"localslack: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)  # fmt: skip
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
