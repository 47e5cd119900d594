"""The executor: validation, the approval gate, and side effects bracketed by tickets.

Calls after the first ``Budgets.max_calls_per_reply`` of a reply never run and ask nobody
(``call_cap``). Per call, in the model's order: an unknown tool or invalid arguments
become an error the model can read; a gated call becomes a capsule (never a call); an
identical call already denied in this thread is refused without a new card; everything
else runs — ``parallel_safe`` neighbours together, the rest one at a time. Every side
effect writes an intent ticket before and a result ticket after, so a crash in between is
visible as *uncertain* and is never re-run on its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from approvals import ApprovalRequest, Capsule, args_sha256, build_capsule
from sessions import IntentTicket, ResultTicket, failpoint, new_approval_id, off_loop, utc_iso

from .call_cap import beyond_cap, refuse_over_cap, split_off
from .gate_context import earlier_denial, why_asked
from .gate_place import card_channel, refused_at_gate
from .live_steps import NOT_RUN
from .messages import (
    AssistantMessage,
    ToolCall,
    ToolResultMessage,
    ToolStatus,
)
from .observe import ApprovalRequested, ToolExecuted
from .session_run import SessionRun
from .stops import active_stop
from .tools import Tool, ToolContext, ToolError, ToolNotRun, ToolOutcomeUnknown
from .tools.output import mask_secrets

__all__ = ["Executed", "Runnable", "execute", "run_calls"]


@dataclass(frozen=True)
class Runnable:
    call: ToolCall
    tool: Tool
    arguments: dict[str, object]
    # The tool's version when the arguments were validated: read later in the turn, an
    # MCP tool's may have moved on (every call before this one re-lists its server).
    version: str


@dataclass(frozen=True)
class Executed:
    """What the model reads of a call, and whether any of it ran (False: refused before it
    started, by the kill switch, a stop or the tool itself, and told "not run")."""

    message: ToolResultMessage
    ran: bool = True


def _error(call: ToolCall, text: str) -> ToolResultMessage:
    return ToolResultMessage(call_id=call.id, name=call.name, content=text, status="error")


async def execute(
    run: SessionRun,
    tool: Tool,
    call_id: str,
    arguments: dict[str, object],
    *,
    approval_id: str = "",
    tool_version: str | None = None,
) -> Executed:
    """Run one call between an intent and a result ticket. ``tool_version``: what the
    call was checked against (an approved call's pinned version); else the tool's now."""
    digest = args_sha256(tool.name, dict(arguments))
    # A stop from Slack halts the model's own calls; a call a person approved still runs.
    stop = None if approval_id else active_stop(run.rt, run.thread, run.transcript)
    if run.rt.killed() or stop is not None:
        why = "the kill switch is on" if stop is None else stop.reason
        text = f"{NOT_RUN}: {why}"
        refused = ToolResultMessage(call_id=call_id, name=tool.name, content=text, status="error")
        return Executed(refused, ran=False)
    await run.write_ticket(
        IntentTicket(
            at=utc_iso(run.rt.clock.now()),
            call_id=call_id,
            tool=tool.name,
            args_sha256=digest,
            approval_id=approval_id,
        )
    )
    failpoint("executor.after_intent")
    await run.trace("tool_started", {"call_id": call_id, "tool": tool.name, "arguments": arguments})
    context = ToolContext(
        home=run.rt.home.root,
        session_id=run.id,
        workspace_path=run.files.workspace,
        thread=run.thread,
        requester=run.requester,
        approval_id=approval_id,
        call_id=call_id,
        tool_version=tool.version if tool_version is None else tool_version,
    )
    status: ToolStatus = "ok"
    ran = True
    started = time.perf_counter()
    # A tool with its own deadline (a command, an MCP server) reports its timeout itself.
    timeout = run.rt.tool_timeout_seconds
    if tool.timeout_seconds is not None:
        timeout = max(timeout, tool.timeout_seconds + 10)
    try:
        async with asyncio.timeout(timeout):  # not wait_for: on 3.11 it can swallow a cancel
            content = await tool.call(dict(arguments), context)
    except TimeoutError:  # cut off while it ran: what it did so far stands
        status = "uncertain"
        content = f"timed out after {timeout:g}s, cut off while it ran; it may have taken effect"
    except ToolOutcomeUnknown as exc:  # never re-run: a person checks the system
        status, content = "uncertain", str(exc)
    except ToolNotRun as exc:  # refused before any of it ran: not "failed"
        status, content, ran = "error", f"{NOT_RUN}: {exc}", False
    except ToolError as exc:  # it ran and said why it failed
        status, content = "error", str(exc)
    except Exception as exc:  # a tool's failure is data for the model, not a crash of ours
        status, content = "error", f"{type(exc).__name__}: {exc}"
    # A program that prints its token (`curl -v`) must not send it to the model's provider,
    # the trace or the thread; the kept output beside the trace has it as written.
    content = mask_secrets(content, tool.secrets)
    failpoint("executor.after_tool_call")
    run.rt.observer.emit(
        ToolExecuted(
            tool=tool.name,
            outcome=status,
            ms=(time.perf_counter() - started) * 1000,
            session_id=run.id,
            thread=run.thread,
            approval_id=approval_id or None,
        )
    )
    await run.write_ticket(
        ResultTicket(
            at=utc_iso(run.rt.clock.now()),
            call_id=call_id,
            tool=tool.name,
            status=status if status in ("ok", "uncertain") else "error",
            content=content,
        )
    )
    await run.trace("tool_finished", {"call_id": call_id, "status": status, "content": content})
    message = ToolResultMessage(
        call_id=call_id,
        name=tool.name,
        content=content,
        status=status,
        args_sha256=digest,
        approval_id=approval_id,
    )
    return Executed(message, ran=ran)


async def _run_parallel(run: SessionRun, group: Sequence[Runnable]) -> None:
    results = await asyncio.gather(
        *(execute(run, r.tool, r.call.id, r.arguments, tool_version=r.version) for r in group)
    )
    for result in results:
        await run.append(result.message)


def _triage(
    run: SessionRun, assistant: AssistantMessage
) -> tuple[list[Runnable | ToolResultMessage], list[Runnable]]:
    ordered: list[Runnable | ToolResultMessage] = []
    gated: list[Runnable] = []
    for call in assistant.tool_calls:
        tool = run.rt.registry.get(call.name)
        if tool is None:
            known = ", ".join(run.rt.registry.names())
            # A model that sent no name gets told so, not "unknown tool ''".
            what = f"unknown tool {call.name!r}" if call.name else "a tool call without a name"
            ordered.append(_error(call, f"{what}; available: {known}"))
            continue
        if call.parse_error or call.arguments is None:
            ordered.append(_error(call, call.parse_error or "arguments missing"))
            continue
        try:
            arguments = tool.validate(call.arguments)
        except ValueError as exc:
            ordered.append(_error(call, str(exc)))
            continue
        runnable = Runnable(call=call, tool=tool, arguments=arguments, version=tool.version)
        try:
            needs_person = tool.gated(arguments)
        except Exception:
            needs_person = True  # a rule that cannot decide fails closed: a person decides
        if not needs_person:
            ordered.append(runnable)
            continue
        digest = args_sha256(tool.name, arguments)
        cannot_ask = refused_at_gate(run, call_id=call.id, tool=tool.name, digest=digest)
        if cannot_ask is not None:
            ordered.append(cannot_ask)
            continue
        denial = earlier_denial(run, digest)
        if denial is not None:
            text = f"refused: an identical call was denied in this thread ({denial}). Do not retry."
            ordered.append(
                ToolResultMessage(
                    call_id=call.id,
                    name=call.name,
                    content=text,
                    status="refused",
                    args_sha256=digest,
                )
            )
            continue
        gated.append(runnable)
    return ordered, gated


async def run_calls(
    run: SessionRun, assistant: AssistantMessage, *, capped: Mapping[str, str] | None = None
) -> list[Capsule]:
    """Execute what may run now; return capsules for what must wait for a person.
    ``capped``: the calls over the per-reply cap, by default those of ``assistant``."""
    if capped is None:
        capped = beyond_cap(assistant, run.rt.budgets.max_calls_per_reply)
    assistant, over = split_off(assistant, capped)
    ordered, gated = _triage(run, assistant)
    group: list[Runnable] = []
    for item in ordered:
        if isinstance(item, Runnable) and item.tool.parallel_safe:
            group.append(item)
            continue
        if group:
            await _run_parallel(run, group)
            group = []
        if isinstance(item, Runnable):
            result = await execute(
                run, item.tool, item.call.id, item.arguments, tool_version=item.version
            )
            await run.append(result.message)
        else:
            await run.trace(
                "tool_rejected",
                {"call_id": item.call_id, "status": item.status, "content": item.content},
            )
            await run.append(item)
    if group:
        await _run_parallel(run, group)
    await refuse_over_cap(run, over, capped)
    stop = active_stop(run.rt, run.thread, run.transcript) if gated else None
    if stop is not None:
        # It came while the calls before them ran: the thread is told the agent stopped,
        # so nobody is asked to approve more; not run, as the calls after a stop are.
        for item in gated:
            await run.append(_error(item.call, f"{NOT_RUN}: {stop.reason}"))
        return []
    return await _capsules(run, assistant, gated)


async def _capsules(
    run: SessionRun, assistant: AssistantMessage, gated: list[Runnable]
) -> list[Capsule]:
    if not gated:
        return []
    ids = tuple(new_approval_id() for _ in gated)
    now = run.rt.clock.now()
    capsules = []
    for approval_id, item in zip(ids, gated, strict=True):
        capsule = build_capsule(
            approval_id=approval_id,
            batch=ids,
            session_id=run.id,
            thread=run.thread,
            call_id=item.call.id,
            tool=item.tool.name,
            tool_version=item.version,
            arguments=dict(item.arguments),
            requester=run.requester,
            requesters=run.requesters,
            reason=why_asked(run, assistant, tool=item.tool.name, arguments=item.arguments),
            policy=run.rt.policy.rule_for(item.tool.name),
            now=now,
            tool_annotations=dict(item.tool.annotations),
            tool_description=item.tool.description,
            request_text=run.request_text,
            card_channel=card_channel(run.rt, run.thread) or "",
        )
        await off_loop(ApprovalRequest.create, run.rt.home, capsule, clock=run.rt.clock)
        failpoint("gate.after_capsule")
        run.rt.observer.emit(
            ApprovalRequested(
                approval_id=capsule.id,
                session_id=run.id,
                thread=run.thread,
                tool=capsule.tool,
                requester=capsule.requester,
            )
        )
        await run.trace("approval_requested", capsule.model_dump(mode="json"))
        capsules.append(capsule)
    run.rt.outbox_written()
    return capsules
