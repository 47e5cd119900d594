"""Two processes approving at the same instant each count an earlier approver neither asked
about.

Bob approved (1 of 3), then the policy dropped him. Carol (a terminal's ``signoff
approve``) and Dave (the bot) approved together: each read Bob's vote alone before it, so
neither approval would complete the quorum and neither asked whether Bob may still
decide; each wrote its vote, and the one that counted last found 3 of 3 and approved the
call with Bob's vote in it. Now a vote is counted and written under a lock on the
request's records across processes, and what the approval asked about is checked again
there: the second finds the first's vote, completes the quorum, and asks about Bob.

Deterministic: Carol's process stops itself as it links her vote into place (after it
read who approved before her), Dave's approval runs (to its end, or until it waits for
Carol's lock), then Carol's process goes on.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from pathlib import Path

from governance_support import approve, park, request

from approvals import NoGroups, Policy, PolicyRule, VoteCounted
from sessions import FixedClock, Home, try_dir_lock

CAPTURED = PolicyRule(quorum=3, approver_users=("U0BOB", "U0CAROL", "U0DAVE"))
NOW = Policy(default=PolicyRule(quorum=3, approver_users=("U0CAROL", "U0DAVE")))


def _held(directory: Path) -> bool:
    with try_dir_lock(directory) as free:
        return not free


def test_two_processes_completing_a_quorum_at_once_ask_about_the_earlier_approver(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, CAPTURED)
    by_bob = approve(home, capsule, "U0BOB", clock, policy=Policy(default=CAPTURED))
    assert isinstance(asyncio.run(by_bob), VoteCounted)
    approvals = request(home, capsule, clock).session_dir / "approvals"

    pid = os.fork()
    if pid == 0:  # Carol's process: never returns into pytest
        real_link = os.link

        def link(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
            if os.path.basename(dst) == "U0CAROL.json":
                os.kill(os.getpid(), signal.SIGSTOP)
            real_link(src, dst)

        os.link = link  # type: ignore[assignment]
        try:
            asyncio.run(approve(home, capsule, "U0CAROL", clock, policy=NOW, groups=NoGroups()))
            os._exit(0)
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), status

    dave: list[object] = []
    other = threading.Thread(
        target=lambda: dave.append(
            asyncio.run(approve(home, capsule, "U0DAVE", clock, policy=NOW, groups=NoGroups()))
        )
    )
    other.start()
    deadline = time.monotonic() + 10
    while not dave and not _held(approvals):
        assert time.monotonic() < deadline, "Dave's approval neither ended nor waited"
        time.sleep(0.01)
    os.kill(pid, signal.SIGCONT)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    other.join(timeout=10)

    decided = request(home, capsule, clock).decision()
    assert decided is None or "U0BOB" not in decided.deciders, decided
    votes = {v.user: v for v in request(home, capsule, clock).votes()}
    assert "U0BOB" in votes["U0DAVE"].discounted + votes["U0CAROL"].discounted
    assert request(home, capsule, clock).approvals() == ("U0CAROL", "U0DAVE")
