"""Whether this terminal could run an approved call: a terminal continues the thread of
what it approves or recovers in its own process, with its own tools."""

from __future__ import annotations

from agent_core.engine import Engine
from agent_core.tools.base import UNLISTED
from approvals import ApprovalRequest, ApprovalsError, HashMismatchError
from sessions import SessionsError

from .config import ConfigError

__all__ = ["approved_calls_run_here", "call_runs_here"]


def call_runs_here(engine: Engine, request: ApprovalRequest, *, upto: int | None = None) -> None:
    """A ConfigError when this process could not run the call ``request`` stands for
    (``upto``: as its decision approved it).

    An approval from a terminal continues its thread here: a shell without the bot's tools
    (another SIGNOFF_CONFIG, SIGNOFF_TOOLS or SIGNOFF_DEMO) would spend it on a refusal
    ("no longer registered") while the bot still offers the tool."""
    try:
        call = request.current(upto=upto)
    except HashMismatchError:
        return  # the decision refuses it, and says why
    tool = engine.rt.registry.get(call.tool)
    # An MCP server down here lists nothing (UNLISTED): the tool is away, not changed, and
    # the turn leaves the call waiting for it, as the bot's does.
    if tool is not None and tool.version in (call.tool_version, UNLISTED):
        return
    why = "is not among" if tool is None else "has another version among"
    # This process cannot see the bot's tools, and the tool may have left them too (a
    # request waiting across a configuration change): both cases are said, each true.
    bots = "give this command the bot's SIGNOFF_CONFIG, SIGNOFF_TOOLS and SIGNOFF_DEMO, or "
    if upto is None:  # an approval asked for here
        where = (
            f"{bots}approve it on its card; where the bot lacks it too, it can run nowhere: "
            f"deny it (`signoff deny {request.id} --as …`), and ask again once the tool is back"
        )
    else:  # approved already
        where = (
            f"{bots}leave the call to the bot; where the bot lacks it too, it can run "
            "nowhere, and the bot tells its thread that it did not run"
        )
    raise ConfigError(
        f"{request.id} calls {call.tool}, which {why} this command's tools: where the bot "
        f"has that tool, {where}"
    )


async def approved_calls_run_here(engine: Engine) -> None:
    """``call_runs_here`` for every approved call of the home that has not started, which
    recovery would otherwise leave to the bot (``Runtime.tools_elsewhere``) one by one: said
    once, before anything is done."""
    async for row in engine.rt.index.iter_approvals(untold=True):
        try:
            request = ApprovalRequest.open(engine.home, row.id)
            decision = request.decision()
            started = request.claimed() is not None or request.told() is not None
        except (SessionsError, ApprovalsError):
            continue  # recovery says what it cannot read
        if decision is not None and decision.verdict == "approved" and not started:
            call_runs_here(engine, request, upto=decision.edit)
