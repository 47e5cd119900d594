"""Helpers for the governance tests (imported by test modules; not a test module itself)."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from engine_support import THREAD

from approvals import (
    ApprovalRequest,
    Capsule,
    GroupResolver,
    NoGroups,
    Policy,
    PolicyRule,
    build_capsule,
    decide,
    sweep_timers,
)
from approvals.decisions import DecisionResult
from approvals.records import Vote
from sessions import FixedClock, Home, Outbox, SessionState, SessionStore, utc_iso

TOOL = "scale_service"
REQUESTER = "U0ALICE"
ARGS: dict[str, Any] = {"service": "api", "replicas": 12}


def park(
    home: Home, clock: FixedClock, rule: PolicyRule | None = None, *, card_channel: str = ""
) -> Capsule:
    """A session that asked for ``TOOL`` and ended awaiting approval, as the gate leaves it
    (``card_channel``: where its card goes, as for a request asked in a direct message)."""
    store = SessionStore(home, clock=clock)
    record = store.create(thread=THREAD, parent_id=None, cause="message", session_md="#\n")
    store.transition(record.id, expected=SessionState.CREATED, new=SessionState.RUNNING)
    capsule = build_capsule(
        session_id=record.id,
        thread=THREAD,
        call_id="call_1",
        tool=TOOL,
        tool_version="v1",
        arguments=dict(ARGS),
        requester=REQUESTER,
        reason="traffic",
        policy=rule or PolicyRule(),
        now=clock.now(),
        card_channel=card_channel,
    )
    ApprovalRequest.create(home, capsule, clock=clock)
    store.transition(record.id, expected=SessionState.RUNNING, new=SessionState.AWAITING_APPROVAL)
    return capsule


def request(home: Home, capsule: Capsule, clock: FixedClock) -> ApprovalRequest:
    return ApprovalRequest.open(home, capsule.id, clock=clock)


def approval_on_disk(home: Home, capsule: Capsule, clock: FixedClock, user: str) -> None:
    """``user``'s approval of the capsule's own arguments, written as a vote's process
    writes it, and nothing after it: what a crash before the decision leaves."""
    vote = Vote(
        approval_id=capsule.id,
        user=user,
        approve=True,
        at=utc_iso(clock.now()),
        args_sha256=capsule.args_sha256,
    )
    assert request(home, capsule, clock).write_vote(vote)


async def approve(
    home: Home,
    capsule: Capsule,
    user: str,
    clock: FixedClock,
    *,
    seen: str | None = None,
    reason: str = "",
    approve: bool = True,
    policy: Policy | None = None,
    groups: GroupResolver | None = None,
) -> DecisionResult:
    return await decide(
        home,
        capsule.id,
        user=user,
        approve=approve,
        reason=reason,
        policy=policy or Policy(),
        groups=groups or NoGroups(),
        clock=clock,
        seen_sha256=seen,
    )


def posts(home: Home) -> dict[str, str]:
    """Queued thread posts (not cards, not notices) by outbox id."""
    return {e.id: e.text for e in Outbox(home).pending() if e.kind == "reply"}


async def sweep(home: Home, clock: FixedClock, policy: Policy | None = None) -> list[object]:
    """One pass of the timer sweep, as the bot's makes it (no rule here names a group)."""
    return list(await sweep_timers(home, policy=policy or Policy(), clock=clock, groups=NoGroups()))


def racing(
    first: Callable[[], Coroutine[Any, Any, object]],
    *,
    pause_at: Callable[[str], bool],
    counted: Callable[[object], bool],
    second: Callable[[], Coroutine[Any, Any, object]],
    after_unlock: bool = False,
) -> tuple[bool, bool]:
    """Two processes at the same instant, made deterministic. ``first`` runs in a forked
    process that stops itself as it links a record whose file name ``pause_at`` (after it
    checked what it checks, under any lock it holds), or with ``after_unlock`` just after
    it first lets go of an exclusive lock it took on a directory so named; ``second`` runs in a thread for
    up to 2 s (a wait for that lock lasts 5); then the first goes on. (Did the second end
    while the first was paused? Did the first's result count, by ``counted``?)"""
    pid = os.fork()
    if pid == 0:  # the first's process: never returns into pytest
        real_link, real_flock, real_close = os.link, fcntl.flock, os.close
        locked: set[int] = set()  # descriptors holding a lock on a directory so named

        def link(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
            if not after_unlock and pause_at(os.path.basename(dst)):
                os.kill(os.getpid(), signal.SIGSTOP)
            real_link(src, dst)

        def flock(fd: int, operation: int) -> None:
            real_flock(fd, operation)  # raises when not taken: then nothing is held
            named = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
            if after_unlock and operation & fcntl.LOCK_EX and pause_at(named):
                locked.add(fd)

        def close(fd: int) -> None:
            real_close(fd)  # the lock on it is let go here
            if fd in locked:
                locked.clear()
                fcntl.flock = real_flock  # once
                os.kill(os.getpid(), signal.SIGSTOP)

        os.link = link  # type: ignore[assignment]
        fcntl.flock = flock  # type: ignore[assignment]  # signoff passes descriptors
        os.close = close
        try:
            os._exit(_COUNTED if counted(asyncio.run(first())) else 0)
        finally:
            os._exit(2)
    _, status = os.waitpid(pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), status
    other = threading.Thread(target=lambda: asyncio.run(second()))
    other.start()
    other.join(timeout=2)
    second_ended = not other.is_alive()
    os.kill(pid, signal.SIGCONT)
    _, status = os.waitpid(pid, 0)
    other.join(timeout=10)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) in (0, _COUNTED), status
    return second_ended, os.WEXITSTATUS(status) == _COUNTED


_COUNTED = 3  # the first's exit status when its result counted
