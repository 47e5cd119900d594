"""The seeded chaos test (issue 8): crash anywhere, lose nothing.

``signoff run`` (the simulated fleet, the offline model) runs against LocalSlack while
people open threads in bursts, write follow-ups and click cards once or twice, allowed or
not (``chaos_people``). Meanwhile LocalSlack delivers every event one to three times,
drops the socket now and then, and answers some ``chat.postMessage``, ``chat.update`` and
``conversations.replies`` calls with a 500 (some after the message was stored) or a 429;
and the bot is SIGKILLed at random moments and started again. Then the last bot runs
until the home is quiet, stops on SIGTERM, and ``chaos_audit`` checks what must hold.

The seed fixes every choice (the people's script, the faults, the kill delays, LocalSlack's
chaos); what those choices meet depends on timing, so a replay is the same scenario, not
the same interleaving. ``SIGNOFF_CHAOS_SEED`` picks it (default: a fresh one, printed),
``SIGNOFF_CHAOS_SECONDS`` how long the chaos lasts (``make soak``: 600). Neither reaches
the bot: ``clean_env`` gives it no ``SIGNOFF_*`` variable of the test's.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from chaos_audit import TERMINAL, Audit, audit
from chaos_people import POLICY, People
from ops_kit import SIGNOFF, RunProcess, free_port
from signoff_e2e_kit import clean_env

from localslack import Fault, LocalSlack, Timing, WorkspaceConfig

CI_SECONDS = 25.0
FAULTED = ("chat.postMessage", "chat.update", "conversations.replies")
# Slack's own 3 s to ack, and its redelivery schedule (0 s, 1 min, 5 min for HTTP; Socket
# Mode's is not documented) shrunk to seconds, so redelivery after a kill comes quickly.
TIMING = Timing(ack_timeout=3.0, retry_delays=(0.5, 2.0, 5.0), server_ping_interval=None)


def _seed() -> int:
    given = os.environ.get("SIGNOFF_CHAOS_SEED", "").strip()
    return int(given) if given else random.SystemRandom().randrange(1, 10**6)


def _seconds() -> float:
    given = os.environ.get("SIGNOFF_CHAOS_SECONDS", "").strip()
    return float(given) if given else CI_SECONDS


@dataclass
class Bots:
    """``signoff run`` incarnations, one at a time, each with its own log directory."""

    slack: LocalSlack
    home: Path
    logs: Path
    policy: Path
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
            http_port=free_port(),
            SIGNOFF_MODEL="offline",
            SIGNOFF_POLICY=str(self.policy),
            SIGNOFF_LOG_LEVEL="INFO",
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
        while loop.time() < until:
            self.start()
            await asyncio.sleep(min(rng.uniform(0.5, 6.0), max(0.0, until - loop.time())))
            if loop.time() >= until:
                return  # the last one lives on
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
        if rng.random() < 0.35:
            fault = slack.inject_fault(method=method, status=429, retry_after=1, count=count)
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


def _quiet(slack: LocalSlack, home: Path) -> str:
    """What is still going on ("" when nothing): work on disk, envelopes in flight."""
    if any(home.glob("outbox/pending/*.json")):
        return "outbox pending"
    if any(home.glob("threads/*/*/*/inbox/new/*")) or any(home.glob("queue/*")):
        return "inbox work"
    for path in home.glob("sessions/sess_*/session.json"):
        if json.loads(path.read_bytes())["state"] not in TERMINAL:
            return f"{path.parent.name} running"
    for marker in home.glob("threads/*/*/*/approvals/appr_*"):
        pointer = json.loads((home / "approvals" / marker.name).read_bytes())
        decided = home / "sessions" / pointer["session"] / "approvals"
        if (decided / f"{marker.name}.decision.json").exists():
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


def _report(seed: int, seconds: float, wall: float, figures: dict[str, int], result: Audit) -> str:
    counts = {k: len(v) for k, v in result.violations.items()}
    shown = " ".join(f"{k}={v}" for k, v in figures.items())
    broken = " ".join(f"{k}={v}" for k, v in counts.items())
    return f"chaos seed={seed} seconds={seconds:g} wall={wall:.1f}s {shown} | {broken}"


def _table(figures: dict[str, int], result: Audit) -> str:
    rows = [*figures.items(), *((k, len(v)) for k, v in result.violations.items())]
    width = max(len(k) for k, _ in rows)
    lines = [f"{'figure':<{width}}  value", f"{'-' * width}  -----"]
    lines += [f"{k:<{width}}  {v}" for k, v in rows]
    return "\n".join(lines)


async def test_crash_anywhere_lose_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed, seconds = _seed(), _seconds()
    size = f" SIGNOFF_CHAOS_SECONDS={seconds:g}" if seconds != CI_SECONDS else ""
    replay = f"replay: SIGNOFF_CHAOS_SEED={seed}{size} .venv/bin/pytest tests/e2e/test_chaos.py"
    faults: list[Fault] = []
    began = time.monotonic()
    home, policy = tmp_path / "home", tmp_path / "policy.toml"
    policy.write_text(POLICY)
    async with LocalSlack(WorkspaceConfig(seed=seed, timing=TIMING)) as slack:
        bots = Bots(slack, home, tmp_path / "logs", policy)
        people = People(slack, home, random.Random(f"{seed}-people"))
        try:
            slack.duplicate_events(seed=seed, max_copies=3)
            slack.drop_sockets_randomly(seed=seed, probability=0.005, interval=(8.0, 20.0))
            until = asyncio.get_running_loop().time() + seconds
            await asyncio.gather(
                bots.kill_now_and_then(random.Random(f"{seed}-kills"), until),
                inject_faults(slack, random.Random(f"{seed}-faults"), until, faults),
                people.run(seconds=seconds),
            )
            slack.stop_dropping_sockets()
            slack.clear_faults()
            last = bots.current
            if last is None or last.proc.poll() is not None:
                bots.kill()  # records an unexpected exit, if that is what it was
                last = bots.start()
            await slack.wait_for_sockets(1, timeout=30)
            still = await until_quiet(slack, home, timeout=max(30.0, seconds / 4))
            last.terminate()
            stopped = await last.exit_code(timeout=30)
            result = audit(slack, home, people.posted, people.threads)
            verified, said = await signoff_verify(home)
        except BaseException:
            with capsys.disabled():
                print(f"\nchaos seed={seed} did not finish; logs in {tmp_path}\n{replay}")
            raise
        finally:
            for run in bots.runs:
                run.kill()
    if verified != 0:
        result.add("verify", f"exit {verified}: {said[-600:]}")
    if still:
        result.add("not_quiet", still)
    if stopped != 0:
        result.add("stop_exit", f"exit {stopped}")
    for detail in bots.unexpected_exits:
        result.add("unexpected_exits", detail)
    for detail in bots.errors_logged():
        result.add("errors_logged", detail)
    tally = people.tally
    figures = {
        "kills": bots.kills,
        "threads": tally.threads,
        "messages": tally.messages,
        "mentions": tally.mentions,
        "gated_asks": tally.gated,
        "follow_ups": tally.follow_ups,
        "clicks": tally.clicks,
        "second_clicks": tally.second_clicks,
        "stale_clicks": tally.stale_clicks,
        "not_allowed_clicks": tally.not_allowed_clicks,
        "deny_reasons": tally.reasons,
        "no_open_card": tally.no_open_card,
        "duplicates": len(slack.chaos_events(kind="duplicate")),
        "drops": len(slack.chaos_events(kind="drop")),
        "faults": sum(f.fired for f in faults),
        **result.figures,
    }
    line = _report(seed, seconds, time.monotonic() - began, figures, result)
    with capsys.disabled():
        print(f"\n{line}")
        if os.environ.get("SIGNOFF_CHAOS_SECONDS"):
            print("\n".join([_table(figures, result), *result.notes]))
    if not result.ok:
        details = [f"{kind}: {d}" for kind, items in result.violations.items() for d in items[:5]]
        pytest.fail(
            "\n".join(
                [
                    line,
                    *details,
                    *result.notes,
                    *bots.timeline,
                    f"logs and home: {tmp_path}",
                    replay,
                ]
            ),
            pytrace=False,
        )
