"""The machinery of a chaos run: ``signoff run`` killed and started again, Slack's faults,
waiting until the home is quiet, and ``signoff verify``.

LocalSlack acks on Slack's own 3 s and redelivers on a shrunk copy of Slack's schedule;
the bot is SIGKILLed (no drain, nothing flushed) at seeded random moments, never at named
failpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from chaos_audit import TERMINAL, Audit
from chaos_reading import batch_waits, read_json
from ops_kit import SIGNOFF, RunProcess
from signoff_e2e_kit import clean_env, session_dirs
from signoff_e2e_kit import until as until_true

from localslack import Fault, LocalSlack, Timing

__all__ = [
    "TIMING",
    "Bots",
    "add_run_failures",
    "chaos_seconds",
    "chaos_seed",
    "inject_faults",
    "refresh_links",
    "signoff_verify",
    "until_quiet",
]

FAULTED = ("chat.postMessage", "chat.update", "conversations.replies")
# Slack's own 3 s to ack, and its redelivery schedule (0 s, 1 min, 5 min for HTTP; Socket
# Mode's is not documented) shrunk to seconds, so redelivery after a kill comes quickly.
TIMING = Timing(ack_timeout=3.0, retry_delays=(0.5, 2.0, 5.0), server_ping_interval=None)


def chaos_seed() -> int:
    """``SIGNOFF_CHAOS_SEED``, or a fresh seed (the test prints it)."""
    given = os.environ.get("SIGNOFF_CHAOS_SEED", "").strip()
    return int(given) if given else random.SystemRandom().randrange(1, 10**6)


def chaos_seconds(default: float) -> float:
    """``SIGNOFF_CHAOS_SECONDS``: how long the chaos lasts (``default``: what CI runs)."""
    given = os.environ.get("SIGNOFF_CHAOS_SECONDS", "").strip()
    return float(given) if given else default


def connected(run: RunProcess) -> bool:
    """Has this bot's Socket Mode link come up (its log says so)?"""
    return '"event": "socket_up"' in run.stderr()


@dataclass
class Bots:
    """``signoff run`` incarnations, one at a time, each with its own log directory."""

    slack: LocalSlack
    home: Path
    logs: Path
    policy: Path
    config: Path  # SIGNOFF_CONFIG: the real gated tools (chaos_tools)
    runs: list[RunProcess] = field(default_factory=list)
    killed: set[int] = field(default_factory=set)
    unexpected_exits: list[str] = field(default_factory=list)
    timeline: list[str] = field(default_factory=list)

    def _when(self, what: str) -> None:
        self.timeline.append(f"{time.time():.3f} {what}")

    def start(self) -> RunProcess:
        run = RunProcess(
            self.slack,
            self.home,
            self.logs / f"bot-{len(self.runs):03d}",
            # Ephemeral, chosen by the bot: a port picked here and bound later was taken
            # meanwhile once in a soak's ~180 starts (exit 2, as it should), not signoff's fault.
            http_port=0,
            SIGNOFF_MODEL="offline",
            SIGNOFF_POLICY=str(self.policy),
            SIGNOFF_CONFIG=str(self.config),
            SIGNOFF_LOG_LEVEL="INFO",
            SIGNOFF_SLACK_TIMEOUT_S="2",  # a hung call (inject_faults) ends within a kill or two
        )
        self.runs.append(run)
        self._when(f"start {run.err_path.parent.name} pid {run.proc.pid}")
        return run

    @property
    def current(self) -> RunProcess | None:
        return self.runs[-1] if self.runs else None

    def kill(self) -> None:
        run = self.current
        if run is None:
            return
        code = run.proc.poll()
        if code is not None:
            if run.proc.pid not in self.killed:
                self.unexpected_exits.append(f"{run.err_path.parent.name} exited {code}")
            return
        run.kill()  # SIGKILL: nothing flushed, no drain
        self.killed.add(run.proc.pid)
        self._when(f"kill {run.err_path.parent.name}")

    @property
    def kills(self) -> int:
        return len(self.killed)

    async def kill_now_and_then(self, rng: random.Random, until: float) -> None:
        loop = asyncio.get_running_loop()
        starved = False  # the last bot was killed before it ever connected
        while loop.time() < until:
            run = self.start()
            if starved:
                # On a machine loaded past its cores a start can outlast every kill delay:
                # no bot would connect, nothing would be clicked, and the run would prove
                # nothing (too_quiet). After such a kill the next bot connects first.
                with contextlib.suppress(TimeoutError):
                    await until_true(
                        functools.partial(connected, run),
                        timeout=max(0.0, until - loop.time()),
                        every=0.1,
                    )
            await asyncio.sleep(min(rng.uniform(0.5, 6.0), max(0.0, until - loop.time())))
            if loop.time() >= until:
                return  # the last one lives on
            starved = not connected(run)
            self.kill()
            await asyncio.sleep(rng.uniform(0.0, 0.4))

    def errors_logged(self) -> list[str]:
        """signoff's own errors (slack_sdk logs one for every ack a dropped socket lost)."""
        found = []
        for run in self.runs:
            for line in run.stderr().splitlines():
                try:
                    record = json.loads(line)
                    mine = str(record.get("logger", "")).startswith("signoff")
                    level = record.get("level") if mine else None
                except (json.JSONDecodeError, AttributeError):
                    level = "unparsed"  # a traceback, or a line torn by SIGKILL
                if level in ("error", "critical", "unparsed"):
                    found.append(f"{run.err_path.parent.name}: {line[:300]}")
        return found


async def inject_faults(
    slack: LocalSlack, rng: random.Random, until: float, injected: list[Fault]
) -> None:
    """Now and then the next call or two of a method fail (each fault kept in ``injected``)."""
    loop = asyncio.get_running_loop()
    while loop.time() < until:
        await asyncio.sleep(rng.uniform(0.3, 1.5))
        method, count = rng.choice(FAULTED), rng.randint(1, 2)
        roll = rng.random()
        if roll < 0.35:
            fault = slack.inject_fault(method=method, status=429, retry_after=1, count=count)
        elif roll < 0.5:
            # Taken and never answered (before or after it took effect): the bot gives up
            # after SIGNOFF_SLACK_TIMEOUT_S and must neither lose nor repeat the write.
            writes = method != "conversations.replies"
            fault = slack.inject_fault(
                method=method, hang=True, count=count, after_commit=writes and rng.random() < 0.5
            )
        else:
            writes = method != "conversations.replies"
            committed = writes and rng.random() < 0.5
            fault = slack.inject_fault(
                method=method,
                status=500,
                error="internal_error",
                count=count,
                after_commit=committed,
                drop_connection=committed and rng.random() < 0.3,
            )
        injected.append(fault)


async def refresh_links(slack: LocalSlack, rng: random.Random, until: float) -> int:
    """Now and then Slack replaces the bot's link as it does in production: ``warning``
    (it keeps sending on it until it closes it, seconds later) or ``refresh_requested``
    (it sends no more on it); how many times a link was replaced (none while no bot is
    connected)."""
    loop, refreshed = asyncio.get_running_loop(), 0
    while loop.time() < until:
        await asyncio.sleep(rng.uniform(1.0, 4.0))
        reason = rng.choice(("warning", "refresh_requested"))
        if await slack.disconnect_sockets(reason=reason, close_after=rng.uniform(0.2, 10.0)):
            refreshed += 1
    return refreshed


def _quiet(slack: LocalSlack, home: Path) -> str:
    """What is still going on ("" when nothing): work on disk, envelopes in flight."""
    if any(home.glob("outbox/pending/*.json")):
        return "outbox pending"
    if any(home.glob("threads/*/*/*/*/inbox/new/[!.]*")) or any(
        p.is_file() for p in home.glob("queue/**/*")
    ):
        return "inbox work"
    for path in (d / "session.json" for d in session_dirs(home)):
        if json.loads(path.read_bytes())["state"] not in TERMINAL:
            return f"{path.parent.name} running"
        if not (path.parent / "MANIFEST.sha256").exists():
            # A process killed between a session's end and its seal (a terminal command
            # beside the bot): the bot's sweep seals it, `verify` must not run before.
            return f"{path.parent.name} ended, not sealed yet"
    for marker in home.glob("threads/*/*/*/*/approvals/appr_*"):
        pointer = json.loads((home / "approvals" / marker.name[5:7] / marker.name).read_bytes())
        decided = home / "sessions" / pointer["session"][5:7] / pointer["session"] / "approvals"
        capsule = read_json(decided / f"{marker.name}.json") or {}
        if (decided / f"{marker.name}.decision.json").exists() and not batch_waits(
            decided, capsule
        ):
            return f"{marker.name} decided, not told"
    if slack.pending_faults():
        return "faults pending"
    deliveries = slack.deliveries()
    if any(d.status in ("queued", "sent") for d in deliveries):
        return "envelopes in flight"
    acked = {d.event_id for d in deliveries if d.acked}
    for d in deliveries:
        unacked = d.type == "events_api" and d.event_id not in acked
        retrying = d.timed_out and d.retry_attempt < TIMING.max_event_retries
        if unacked and retrying and d.redelivered_as is None:
            return "a redelivery due"
    return ""


async def until_quiet(slack: LocalSlack, home: Path, *, timeout: float) -> str:
    """Wait until nothing has gone on for a second; returns what still did at the timeout."""
    deadline = time.monotonic() + timeout
    calm_since: float | None = None
    doing = "not started"
    while time.monotonic() < deadline:
        doing = _quiet(slack, home)
        now = time.monotonic()
        if doing:
            calm_since = None
        elif calm_since is None:
            calm_since = now
        elif now - calm_since >= 1.0:
            return ""
        await asyncio.sleep(0.2)
    return doing


async def signoff_verify(home: Path) -> tuple[int, str]:
    """``signoff verify`` over the whole home: its exit status and what it said."""
    process = await asyncio.create_subprocess_exec(
        SIGNOFF,
        "verify",
        env=clean_env(SIGNOFF_HOME=str(home)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")


def add_run_failures(
    result: Audit, bots: Bots, *, verified: tuple[int, str], still: str, stopped: int
) -> None:
    """What went wrong with the run itself: ``signoff verify``, work left, the last bot's
    exit on SIGTERM, bots that exited unkilled and errors signoff logged."""
    if verified[0] != 0:
        result.add("verify", f"exit {verified[0]}: {verified[1][-600:]}")
    if still:
        result.add("not_quiet", still)
    if stopped != 0:
        result.add("stop_exit", f"exit {stopped}")
    for detail in bots.unexpected_exits:
        result.add("unexpected_exits", detail)
    for detail in bots.errors_logged():
        result.add("errors_logged", detail)
