"""An approval made while the kill switch is on is told in the thread, whatever path
decided it and whatever crash came between the decision and the telling.

The card says Approved and nothing runs: without the note the thread is silent until the
switch is off. A kill after the decision file (before the engine told it) used to leave
the thread silent for good; so did a quorum completed by the sweep.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "e2e"))

from helpers_proc import close_fork_servers, ok, restarts
from signoff_e2e_kit import approval_id_of, bot_messages, cards
from test_lifecycle_regressions import _asked_in_slack, killed, run_cli, slack_env

from localslack import LocalSlack, WorkspaceConfig

FROZEN = "kill switch is on: it waits"


@pytest.fixture(scope="module", autouse=True)
def _fork_servers() -> Iterator[None]:
    yield
    close_fork_servers()


async def test_a_kill_after_an_approval_under_the_kill_switch_still_tells_the_thread_once(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    async with LocalSlack(WorkspaceConfig()) as slack:
        env = slack_env(slack)
        thread = await _asked_in_slack(slack, home)
        ok(await run_cli(home, "recover", env=env))
        [card] = cards(slack, thread)
        (home / "KILL").write_text("incident")
        done = await run_cli(
            home,
            "approve",
            approval_id_of(card),
            "--as",
            "U0BOB",
            env=env,
            failpoint="decision.after_decision_file",
        )
        killed(done)
        for _ in range(2):  # told once, however often recovery runs
            ok(await run_cli(home, "recover", env=env))
        said = [m["text"] for m in bot_messages(slack, thread) if FROZEN in m.get("text", "")]
        assert len(said) == 1, [m.get("text") for m in bot_messages(slack, thread)]
        assert restarts(home) == 0
