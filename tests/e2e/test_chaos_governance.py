"""The seeded chaos test of governance: crash anywhere while requests are edited, voted on
by a quorum, reminded, escalated, frozen by the kill switch and go stale.

``signoff run`` (the real gated tools of ``chaos_tools``: a command tool that needs Bob
and Carol, and an MCP server's tool that needs either) runs against LocalSlack and is
SIGKILLed at seeded random moments, often within a quarter second of a click or an edit,
and started again, while Alice asks, Bob and Carol approve, edit and deny (now and then
from a card drawn before an edit, or from a terminal, that process killed mid-way), and the kill switch goes on and off
(``chaos_governance``). Then the last bot runs until the home is quiet and the audit
(``chaos_governance_audit`` and all of ``chaos_audit``: nothing lost, no rerun, every
outcome told, cards true) checks, from the home, from Slack and from what the tools wrote
down themselves: every call ran at most once, only approved, with the arguments of the
edit its decision named (never the original ones), each decider having approved that
very call; nothing was claimed after ``valid_until`` or went stale before it, and a stale
call never started; every reminder and escalation on record was posted once, and none
after its decision; an approval the kill switch froze ran or went stale once it was lifted.
A message a turn took in just as the switch went on is answered by the switch's note
(the turn stops), not by the model, so it is left out of "unanswered".

``SIGNOFF_CHAOS_SEED`` picks the seed (default: a fresh one, printed) and
``SIGNOFF_CHAOS_SECONDS`` how long the chaos lasts (default 20 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from pathlib import Path

import pytest
from chaos_audit import audit
from chaos_governance import GOVERNANCE_POLICY, GovernancePeople
from chaos_governance_audit import audit_governance, excuse_stopped, stopped_by_kill_switch
from chaos_reading import SlackView
from chaos_run import (
    TIMING,
    Bots,
    add_run_failures,
    chaos_seconds,
    chaos_seed,
    signoff_verify,
    until_quiet,
)
from chaos_tools import tools_config
from signoff_e2e_kit import clean_env

from localslack import LocalSlack, WorkspaceConfig

CI_SECONDS = 20.0


async def _kill_now_and_then(
    bots: Bots, slack: LocalSlack, poke: asyncio.Event, seed: int, until: float
) -> None:
    """Like ``Bots.kill_now_and_then``, but mostly a while after the bot connected (on a
    loaded machine a start-up takes seconds, and bots killed before they connect do nothing),
    and soon after a click when ``poke`` is set. The first bot is up already."""
    rng, soon = random.Random(f"{seed}-kills"), random.Random(f"{seed}-pokes")
    loop, connections = asyncio.get_running_loop(), 1
    while True:
        poke.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(min(rng.uniform(0.2, 3.0), max(0.0, until - loop.time()))):
                await poke.wait()
        if poke.is_set():
            await asyncio.sleep(soon.uniform(0.0, 0.25))
        if loop.time() >= until:
            return  # the last one lives on
        bots.kill()
        await asyncio.sleep(rng.uniform(0.0, 0.3))
        bots.start()
        if rng.random() < 0.85:
            connections += 1
            with contextlib.suppress(TimeoutError):
                await slack.wait_for_connections(connections, timeout=30)


async def test_governance_survives_random_kills(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed, seconds = chaos_seed(), chaos_seconds(CI_SECONDS)
    replay = (
        f"replay: SIGNOFF_CHAOS_SEED={seed} SIGNOFF_CHAOS_SECONDS={seconds:g} "
        ".venv/bin/pytest tests/e2e/test_chaos_governance.py"
    )
    began = time.monotonic()
    home, policy = tmp_path / "home", tmp_path / "policy.toml"
    policy.write_text(GOVERNANCE_POLICY)
    config, effects = tools_config(tmp_path)
    async with LocalSlack(WorkspaceConfig(seed=seed, timing=TIMING)) as slack:
        bots = Bots(slack, home, tmp_path / "logs", policy, config)
        terminal_env = clean_env(
            SIGNOFF_HOME=str(home), SIGNOFF_POLICY=str(policy), SIGNOFF_CONFIG=str(config),
            SIGNOFF_MODEL="offline",
        )  # fmt: skip
        people = GovernancePeople(slack, home, random.Random(f"{seed}-people"), terminal_env)
        try:
            bots.start()
            await slack.wait_for_connections(1, timeout=60)
            await people.first_cards()
            until = asyncio.get_running_loop().time() + seconds
            await asyncio.gather(
                _kill_now_and_then(bots, slack, people.poke, seed, until),
                people.act(seconds=seconds),
            )
            last = bots.current
            if last is None or last.proc.poll() is not None:
                bots.kill()
                last = bots.start()
            await slack.wait_for_sockets(1, timeout=30)
            # Longer than the reminders' and escalations' schedule and the sweep's 5 s.
            still = await until_quiet(slack, home, timeout=60)
            last.terminate()
            stopped = await last.exit_code(timeout=30)
            cut_short = stopped_by_kill_switch(home)
            asked = [p for p in people.posted if p.ts not in cut_short]
            result = audit(slack, home, asked, people.threads, effects=effects)
            excuse_stopped(result, home)
            result.figures["stopped_by_kill_switch"] = len(people.posted) - len(asked)
            view = SlackView(slack)
            posts = Counter({e: n for (e, part), n in view.replies.items() if part == 0})
            audit_governance(result, home, effects, posts)
            verified = await signoff_verify(home)
        except BaseException:
            with capsys.disabled():
                print(
                    f"\ngovernance chaos seed={seed} did not finish; logs in {tmp_path}\n{replay}"
                )
            raise
        finally:
            for run in bots.runs:
                run.kill()
    add_run_failures(result, bots, verified=verified, still=still, stopped=stopped)
    for detail in people.terminal_failures:
        result.add("terminal_failures", detail)
    if bots.kills < 1 or people.tally.clicks < 1:
        result.violations.setdefault("too_quiet", []).append(
            f"kills {bots.kills}, clicks {people.tally.clicks}"
        )
    figures = {
        "kills": bots.kills,
        "threads": people.tally.threads,
        "clicks": people.tally.clicks,
        "no_open_card": people.tally.no_open_card,
        "edits": people.edits,
        "terminal_decisions": people.tally.terminal_decisions,
        "terminal_kills": people.tally.terminal_kills,
        "kill_switch_flips": people.kill_switch_flips,
        **result.figures,
    }
    shown = " ".join(f"{k}={v}" for k, v in figures.items())
    broken = " ".join(f"{k}={len(v)}" for k, v in result.violations.items() if v)
    line = f"governance chaos seed={seed} wall={time.monotonic() - began:.1f}s {shown} | {broken}"
    with capsys.disabled():
        print(f"\n{line}")
    if not result.ok:
        details = [f"{kind}: {d}" for kind, items in result.violations.items() for d in items[:5]]
        pytest.fail(
            "\n".join([line, *details, *bots.timeline, f"logs and home: {tmp_path}", replay]),
            pytrace=False,
        )
