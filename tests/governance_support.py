"""Helpers for the governance tests (imported by test modules; not a test module itself)."""

from __future__ import annotations

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
