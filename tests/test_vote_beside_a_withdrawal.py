"""A vote in one process and a stop's withdrawal in another at the same instant.

Carol's approval (a terminal's ``signoff approve``, 1 of 2) had checked that nothing was
decided and was about to write her vote when Bob's stop in Slack withdrew the request: her
vote then landed after the withdrawal, and she was told it counted on a request the card
showed withdrawn. The withdrawal did not take the lock votes are counted under. Now it
does: one lands before the other, and each is told what is true when it lands.

Carol's process stops itself as it links her vote into place (after it checked for a
decision, holding the lock), Bob's withdrawal runs (to its end, or for 2 s of waiting for
Carol's lock, which it holds for 5), then Carol's process goes on.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading

from governance_support import approve, park, request

from approvals import NoGroups, Policy, PolicyRule, VoteCounted, withdraw
from sessions import FixedClock, Home

RULE = PolicyRule(quorum=2, approver_users=("U0BOB", "U0CAROL", "U0DAVE"))
COUNTED = 3  # Carol's exit status when she was told her vote counted


def test_a_vote_and_a_withdrawal_at_once_never_count_the_vote_on_a_withdrawn_request(
    home: Home, clock: FixedClock
) -> None:
    capsule = park(home, clock, RULE)

    pid = os.fork()
    if pid == 0:  # Carol's process: never returns into pytest
        real_link = os.link

        def link(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
            if os.path.basename(dst).startswith("U0CAROL"):
                os.kill(os.getpid(), signal.SIGSTOP)
            real_link(src, dst)

        os.link = link  # type: ignore[assignment]
        try:
            voted = asyncio.run(
                approve(
                    home, capsule, "U0CAROL", clock, policy=Policy(default=RULE), groups=NoGroups()
                )
            )
            os._exit(COUNTED if isinstance(voted, VoteCounted) else 0)
        finally:
            os._exit(2)
    _, status = os.waitpid(pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), status

    async def withdrawn() -> object:
        return await withdraw(
            request(home, capsule, clock), user="U0BOB", reason="stopped", now=clock.now()
        )

    bob: list[object] = []

    other = threading.Thread(target=lambda: bob.append(asyncio.run(withdrawn())))
    other.start()
    # Carol's process holds the lock either way; a withdrawal that waits for it is still
    # waiting after 2 s (it waits up to 5), one that does not has long finished.
    other.join(timeout=2)
    withdrawn_first = not other.is_alive()
    os.kill(pid, signal.SIGCONT)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status), status
    other.join(timeout=10)

    decided = request(home, capsule, clock).decision()
    assert decided is not None and decided.verdict == "denied", decided
    # Carol was told her vote counted only if it landed before the withdrawal.
    assert not (withdrawn_first and os.WEXITSTATUS(status) == COUNTED), "a vote counted after"
    assert os.WEXITSTATUS(status) in (0, COUNTED), status
