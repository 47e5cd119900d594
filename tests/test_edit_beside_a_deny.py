"""An edit in one process and a deny in another at the same instant.

Carol's edit (the bot) had checked that nothing was decided and was about to write her
edit when Bob's deny (a terminal's ``signoff deny``) was written: her edit then landed
after the deny, and she was told it counted (1 of 2) on a request already denied, while
the card said denied. Neither took the lock under which votes are counted. Now an edit
is checked and written, and a deny checked and written, under that lock across
processes: one lands before the other, and each is told what is true when it lands.

Deterministic: Carol's process stops itself as it links her edit into place (after it
checked for a decision), Bob's deny runs (to its end, or until it waits for Carol's
lock), then Carol's process goes on.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from pathlib import Path

from governance_support import approve, park, request

from approvals import EditRecorded, NoGroups, Policy, PolicyRule, record_edit
from sessions import FixedClock, Home, try_dir_lock

RULE = PolicyRule(quorum=2, approver_users=("U0BOB", "U0CAROL", "U0DAVE"), allow_edit=True)
EDITED = 3  # Carol's exit status when her edit was recorded and counted


def _held(directory: Path) -> bool:
    with try_dir_lock(directory) as free:
        return not free


def test_an_edit_and_a_deny_at_once_never_count_the_edit_on_a_denied_request(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, RULE)
    approvals = request(home, capsule, clock).session_dir / "approvals"

    pid = os.fork()
    if pid == 0:  # Carol's process: never returns into pytest
        real_link = os.link

        def link(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
            if os.path.basename(dst).endswith(".edit-1.json"):
                os.kill(os.getpid(), signal.SIGSTOP)
            real_link(src, dst)

        os.link = link  # type: ignore[assignment]
        try:
            edited = asyncio.run(
                record_edit(
                    request(home, capsule, clock),
                    user="U0CAROL",
                    arguments={"service": "api", "replicas": 8},
                    tool_version="v1",
                    base_sha256=capsule.args_sha256,
                    policy=Policy(default=RULE),
                    groups=NoGroups(),
                    clock=clock,
                )
            )
            os._exit(EDITED if isinstance(edited, EditRecorded) else 0)
        finally:
            os._exit(2)
    _, status = os.waitpid(pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), status

    bob: list[object] = []
    other = threading.Thread(
        target=lambda: bob.append(
            asyncio.run(
                approve(home, capsule, "U0BOB", clock, approve=False, policy=Policy(default=RULE))
            )
        )
    )
    other.start()
    deadline = time.monotonic() + 10
    while not bob and not _held(approvals):
        assert time.monotonic() < deadline, "Bob's deny neither ended nor waited"
        time.sleep(0.01)
    denied_first = bool(bob)
    os.kill(pid, signal.SIGCONT)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status), status
    other.join(timeout=10)

    decided = request(home, capsule, clock).decision()
    assert decided is not None and decided.verdict == "denied", decided
    # Carol was told her edit counted only if it landed before the deny.
    assert not (denied_first and os.WEXITSTATUS(status) == EDITED), "an edit counted after a deny"
    assert os.WEXITSTATUS(status) in (0, EDITED), status
