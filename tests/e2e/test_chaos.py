"""The seeded chaos test (issue 8): crash anywhere, lose nothing.

``signoff run`` (the simulated fleet and two real gated tools, ``chaos_tools``; the offline
model) runs against LocalSlack while people open threads in bursts, write follow-ups,
click cards once or twice, allowed or not, and now and then decide one from a terminal
(``signoff approve|deny``, itself killed mid-way at times) (``chaos_people``). Meanwhile LocalSlack delivers every event one to three times,
drops the socket now and then, replaces it as Slack does (``disconnect``: ``warning``,
``refresh_requested``), and answers some ``chat.postMessage``, ``chat.update`` and
``conversations.replies`` calls with a 500 (some after the message was stored) or a 429;
and the bot is SIGKILLed at random moments and started again (``chaos_run``). Then the
last bot runs until the home is quiet, stops on SIGTERM, and ``chaos_audit`` checks what
must hold against what ``chaos_reading`` reads from the home and from Slack.

The seed fixes every choice (the people's script, the faults, the kill delays, LocalSlack's
chaos); what those choices meet depends on timing, so a replay is the same scenario, not
the same interleaving. ``SIGNOFF_CHAOS_SEED`` picks it (default: a fresh one, printed),
``SIGNOFF_CHAOS_SECONDS`` how long the chaos lasts (``make soak``: 600). Neither reaches
the bot: ``clean_env`` gives it no ``SIGNOFF_*`` variable of the test's.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

import pytest
from chaos_audit import Audit, audit
from chaos_people import POLICY, People
from chaos_run import (
    TIMING,
    Bots,
    add_run_failures,
    chaos_seconds,
    chaos_seed,
    inject_faults,
    refresh_links,
    signoff_verify,
    until_quiet,
)
from chaos_tools import tools_config
from signoff_e2e_kit import clean_env

from agent_core.backoff import Backoff
from localslack import Fault, LocalSlack, WorkspaceConfig

CI_SECONDS = 25.0


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
    seed, seconds = chaos_seed(), chaos_seconds(CI_SECONDS)
    size = f" SIGNOFF_CHAOS_SECONDS={seconds:g}" if seconds != CI_SECONDS else ""
    replay = f"replay: SIGNOFF_CHAOS_SEED={seed}{size} .venv/bin/pytest tests/e2e/test_chaos.py"
    faults: list[Fault] = []
    began = time.monotonic()
    home, policy = tmp_path / "home", tmp_path / "policy.toml"
    policy.write_text(POLICY)
    config, effects = tools_config(tmp_path)
    async with LocalSlack(WorkspaceConfig(seed=seed, timing=TIMING)) as slack:
        bots = Bots(slack, home, tmp_path / "logs", policy, config)
        terminal_env = clean_env(
            SIGNOFF_HOME=str(home), SIGNOFF_POLICY=str(policy), SIGNOFF_CONFIG=str(config),
            SIGNOFF_MODEL="offline", SIGNOFF_DEMO="1",
        )  # fmt: skip
        people = People(slack, home, random.Random(f"{seed}-people"), terminal_env)
        try:
            slack.duplicate_events(seed=seed, max_copies=3)
            slack.drop_sockets_randomly(seed=seed, probability=0.005, interval=(8.0, 20.0))
            until = asyncio.get_running_loop().time() + seconds
            *_, refreshes = await asyncio.gather(
                bots.kill_now_and_then(random.Random(f"{seed}-kills"), until),
                inject_faults(slack, random.Random(f"{seed}-faults"), until, faults),
                people.run(seconds=seconds),
                refresh_links(slack, random.Random(f"{seed}-links"), until),
            )
            slack.stop_dropping_sockets()
            slack.clear_faults()
            last = bots.current
            if last is None or last.proc.poll() is not None:
                bots.kill()  # records an unexpected exit, if that is what it was
                last = bots.start()
            await slack.wait_for_sockets(1, timeout=30)
            # Longer than the outbox's longest wait between tries: a Slack write the faults
            # left waiting that long is not stuck.
            settle = max(Backoff().maximum + 30.0, seconds / 4)
            still = await until_quiet(slack, home, timeout=settle)
            last.terminate()
            stopped = await last.exit_code(timeout=30)
            result = audit(
                slack, home, people.posted, people.threads, effects=effects, deleted=people.deleted
            )
            verified = await signoff_verify(home)
        except BaseException:
            with capsys.disabled():
                print(f"\nchaos seed={seed} did not finish; logs in {tmp_path}\n{replay}")
            raise
        finally:
            for run in bots.runs:
                run.kill()
    add_run_failures(result, bots, verified=verified, still=still, stopped=stopped)
    for detail in people.terminal_failures:
        result.add("terminal_failures", detail)
    tally = people.tally
    # A run that crashed nothing, asked nothing or clicked nothing proves nothing.
    for what, done, least in (("kills", bots.kills, 1), ("mentions", tally.mentions, 5),
                              ("clicks", tally.clicks, 1)):  # fmt: skip
        if done < least:
            result.add("too_quiet", f"{what}: {done} (at least {least})")
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
        "terminal_decisions": tally.terminal_decisions,
        "terminal_kills": tally.terminal_kills,
        "terminal_kills_decided": tally.terminal_kills_decided,
        "edits": tally.edits,
        "deletions": tally.deletions,
        "duplicates": len(slack.chaos_events(kind="duplicate")),
        "drops": len(slack.chaos_events(kind="drop")),
        "link_refreshes": refreshes,
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
