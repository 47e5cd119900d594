"""Settling open calls when a child session starts: the heart of resume and recovery.

A new session may inherit calls with no result: gated calls that were decided (run the
stored call from its capsule, or report denied/expired), calls a crash interrupted
(read the recorded result, or report *uncertain* when an intent has no result), and
calls that never started (triaged again as if new). One resolver serves a decision, a
new message and crash recovery alike, so all three behave the same.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from approvals import (
    AlreadyClaimedError,
    Capsule,
    Claim,
    Decision,
    ExecutionResult,
    HashMismatchError,
    capsule_ids,
    claim,
    expire,
    expired,
    load_capsule,
    load_decision,
    locate,
    read_optional,
    record_path,
    write_record,
)
from sessions import AlreadyExistsError, SessionFiles, failpoint, verify

from .executor import execute, run_calls
from .messages import AssistantMessage, EventMessage, ToolResultMessage, ToolStatus
from .runtime import KillSwitchOn
from .session_run import SessionRun

__all__ = ["SettleOutcome", "realize", "settle"]


@dataclass
class SettleOutcome:
    parked: list[Capsule] = field(default_factory=list)
    told: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)


@dataclass
class _Origins:
    capsules: dict[str, tuple[Path, Capsule]] = field(default_factory=dict)
    intents: dict[str, dict[str, object]] = field(default_factory=dict)
    results: dict[str, dict[str, object]] = field(default_factory=dict)


def _scan(run: SessionRun, wanted: set[str]) -> _Origins:
    """Walk the lineage back from the parent until every wanted call id is explained."""
    found = _Origins()
    current = run.record.parent_id
    while current is not None and wanted - set(found.capsules) - set(found.intents):
        directory = run.rt.home.session_dir(current)
        for approval_id in capsule_ids(directory):
            capsule = load_capsule(directory, approval_id)
            if capsule.call_id in wanted:
                found.capsules.setdefault(capsule.call_id, (directory, capsule))
        for ticket in _tickets(run, directory):
            call_id = str(ticket.get("call_id", ""))
            if call_id not in wanted:
                continue
            gated_by = ticket.get("approval_id")
            if isinstance(gated_by, str) and gated_by:
                # An approved call interrupted mid-run is still a gated call: settle it
                # through its capsule, so its claim, result and "told" stay consistent.
                if call_id not in found.capsules:
                    found.capsules[call_id] = locate(run.rt.home, gated_by)
                continue
            target = found.intents if ticket.get("kind") == "intent" else found.results
            target.setdefault(call_id, ticket)
        current = run.rt.store.load(current).parent_id
    return found


def _tickets(run: SessionRun, directory: Path) -> list[dict[str, object]]:
    return SessionFiles(directory, clock=run.rt.clock).read_tickets()


def _refusal(run: SessionRun, session_dir: Path, capsule: Capsule, decision: Decision) -> str:
    """Why an approved call must not run, or "" when it may (I1)."""
    if decision.args_sha256 != capsule.args_sha256:
        return "the decision approved a different argument hash"
    try:
        capsule.verify_hash()
    except HashMismatchError as exc:
        return str(exc)
    report = verify(session_dir)
    if not report.sealed:
        # A session that asked for approval ended, so it is sealed; no seal means the
        # manifest was removed, and nothing that session holds can be trusted.
        return "the requesting session has no seal (MANIFEST.sha256 is missing)"
    if not report.ok:
        return "the requesting session was modified after it was sealed: " + "; ".join(
            report.problems[:3]
        )
    tool = run.rt.registry.get(capsule.tool)
    if tool is None:
        return f"the tool {capsule.tool!r} is no longer registered"
    if tool.version != capsule.tool_version:
        return f"the tool changed since it was approved ({capsule.tool_version} → {tool.version})"
    return ""


async def realize(
    run: SessionRun, session_dir: Path, capsule: Capsule, decision: Decision
) -> tuple[ToolStatus, str]:
    """Turn a final decision into an outcome; an approved call runs here, at most once."""
    who = ", ".join(f"<@{d}>" if d != "signoff" else "signoff" for d in decision.deciders)
    if decision.verdict == "denied":
        why = f": {decision.reason}" if decision.reason else ""
        return "denied", f"denied by {who} at {decision.at}{why}. Do not retry this call."
    if decision.verdict == "expired":
        return "expired", (
            f"no decision before {capsule.expires_at}; the request expired and the call did not "
            "run. Ask again only if it is still needed."
        )
    refusal = _refusal(run, session_dir, capsule, decision)
    if refusal:
        run.trace("approved_call_refused", {"approval_id": capsule.id, "reason": refusal})
        return "error", f"approved by {who} but not run: {refusal}. Ask again if still needed."
    recorded = read_optional(record_path(session_dir, capsule.id, "result"), ExecutionResult)
    if recorded is not None:
        return ("ok" if recorded.ok else "error"), recorded.output
    if run.rt.killed():
        # Frozen, not spent: the approval stays unclaimed and runs once the switch is off.
        raise KillSwitchOn
    now = run.rt.clock.now().isoformat()
    try:
        claim(session_dir, capsule.id, by_session=run.id, at=now)
        failpoint("resume.after_claim")
    except AlreadyClaimedError:
        finished = _claimed_result(run, session_dir, capsule)
        if finished is not None:
            return finished
        return "uncertain", (
            f"approved by {who}; the call was started once before and its result was not "
            "recorded (a crash). It is not re-run automatically: check the system first."
        )
    tool = run.rt.registry.get(capsule.tool)
    assert tool is not None  # checked by _refusal
    result = await execute(run, tool, capsule.call_id, capsule.arguments, approval_id=capsule.id)
    failpoint("resume.after_tool_run")
    write_record(
        record_path(session_dir, capsule.id, "result"),
        ExecutionResult(
            approval_id=capsule.id,
            session_id=run.id,
            at=run.rt.clock.now().isoformat(),
            ok=result.status == "ok",
            output=result.content,
        ),
    )
    failpoint("resume.after_result_record")
    return result.status, result.content


def _claimed_result(
    run: SessionRun, session_dir: Path, capsule: Capsule
) -> tuple[ToolStatus, str] | None:
    """The result ticket the claiming session wrote before a crash cut it short, if any."""
    claimed = read_optional(record_path(session_dir, capsule.id, "claim"), Claim)
    if claimed is None:
        return None
    for ticket in _tickets(run, run.rt.home.session_dir(claimed.session_id)):
        if ticket.get("kind") == "result" and ticket.get("call_id") == capsule.call_id:
            ok = ticket.get("status") == "ok"
            output = str(ticket.get("content", ""))
            result = ExecutionResult(
                approval_id=capsule.id,
                session_id=claimed.session_id,
                at=claimed.at,
                ok=ok,
                output=output,
            )
            with contextlib.suppress(AlreadyExistsError):
                write_record(record_path(session_dir, capsule.id, "result"), result)
            return ("ok" if ok else "error"), output
    return None


async def _gated(
    run: SessionRun, session_dir: Path, capsule: Capsule, out: SettleOutcome
) -> tuple[ToolStatus, str] | None:
    decision = load_decision(session_dir, capsule.id)
    if decision is None and expired(capsule, run.rt.clock.now()):
        decision = expire(session_dir, capsule, now=run.rt.clock.now()).decision
    if decision is None:
        out.waiting.append(capsule.id)
        if not record_path(session_dir, capsule.id, "card").exists():
            # A crash came between the capsule and its card: post it now (I6).
            out.parked.append(capsule)
        return None
    out.told.append(capsule.id)
    run.trace(
        "decision_applied",
        {"approval_id": capsule.id, "verdict": decision.verdict, "by": list(decision.deciders)},
    )
    return await realize(run, session_dir, capsule, decision)


async def settle(run: SessionRun) -> SettleOutcome:
    out = SettleOutcome()
    open_calls = run.unresolved_calls()
    origins = _scan(run, {call_id for _, call_id in open_calls}) if open_calls else _Origins()
    not_started: list[tuple[AssistantMessage, str]] = []
    for assistant, call_id in open_calls:
        call = next(c for c in assistant.tool_calls if c.id == call_id)
        if call_id in origins.capsules:
            session_dir, capsule = origins.capsules[call_id]
            outcome = await _gated(run, session_dir, capsule, out)
            status, content = outcome or (
                "pending",
                f"waiting for approval {capsule.id}; the call has not run.",
            )
            run.append(
                ToolResultMessage(
                    call_id=call_id,
                    name=call.name,
                    content=content,
                    status=status,
                    args_sha256=capsule.args_sha256,
                    approval_id=capsule.id,
                )
            )
        elif call_id in origins.results:
            ticket = origins.results[call_id]
            status = "ok" if ticket.get("status") == "ok" else "error"
            run.append(
                ToolResultMessage(
                    call_id=call_id,
                    name=call.name,
                    content=str(ticket.get("content")),
                    status=status,
                )
            )
        elif call_id in origins.intents:
            run.append(
                ToolResultMessage(
                    call_id=call_id,
                    name=call.name,
                    status="uncertain",
                    content="the session crashed while this call ran; it may or may not have "
                    "taken effect and is not re-run automatically.",
                )
            )
        else:
            not_started.append((assistant, call_id))
    if not_started:
        calls = tuple(c for a, cid in not_started for c in a.tool_calls if c.id == cid)
        out.parked.extend(await run_calls(run, AssistantMessage(tool_calls=calls)))
    for placeholder in run.pending_placeholders():
        session_dir, capsule = locate(run.rt.home, placeholder.approval_id)
        outcome = await _gated(run, session_dir, capsule, out)
        if outcome is None:
            continue
        status, content = outcome
        run.append(
            EventMessage(
                text=f"Outcome of the earlier `{capsule.tool}` request ({capsule.id}): {status}: "
                f"{content}",
                approval_id=capsule.id,
                call_id=capsule.call_id,
                status=status,
                args_sha256=capsule.args_sha256,
            )
        )
    return out
