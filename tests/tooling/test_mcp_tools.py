"""MCP tools through the whole engine, against a real MCP server (the SDK's MCPServer) that
records every call it receives: over stdio and over streamable HTTP, across restarts of
signoff and of the server, "days later" by the injected clock."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from engine_support import THREAD, message, transcript
from mcp_fixture_kit import (
    GATED_CARD_TOOL,
    HttpOpsServer,
    alive,
    kill,
    noisy_spec,
    records,
    server_table,
    stdio_command,
    write_config,
)

from agent_core.engine import Engine
from agent_core.messages import EventMessage, ToolResultMessage
from agent_core.surface import RecordingSurface
from agent_core.tools.mcp_server import McpServer
from agent_core.tools.mcp_spec import McpServerSpec
from approvals import ApprovalRequest, CannotRun, Decided, Refused
from bot.home import HomeContent, home_view
from sessions import FixedClock, Home, ThreadKey

if TYPE_CHECKING:
    from conftest import SignoffFactory


OTHER = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1700000000.000150")
ASK_RESTART = "<@U0SIGNOFF> call ops__restart_deployment deployment=api namespace=prod"


def results(home: Home, name: str) -> list[ToolResultMessage | EventMessage]:
    out: list[ToolResultMessage | EventMessage] = []
    for m in transcript(home):
        if (isinstance(m, ToolResultMessage) and m.name == name) or (
            isinstance(m, EventMessage) and f"`{name}`" in m.text
        ):
            out.append(m)
    return out


def final_status(home: Home, name: str) -> tuple[str, str]:
    last = results(home, name)[-1]
    return str(last.status), last.content if isinstance(last, ToolResultMessage) else last.text


async def ask(
    engine: Engine, text: str, ts: str, user: str = "U0ALICE", thread: ThreadKey = THREAD
) -> None:
    await engine.ingest(message(text, ts=ts, user=user, thread=thread))
    await engine.idle()


async def approved(
    engine: Engine, home: Home, surface: RecordingSurface, text: str, tool: str
) -> tuple[str, str]:
    """Ask ``text`` (a gated call), approve its card as Bob: how ``tool``'s call ended."""
    await ask(engine, text, "1700000000.000100")
    (card,) = surface.cards
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    return final_status(home, tool)


async def test_a_no_approval_tool_runs_at_once_and_an_excluded_tool_is_unknown(
    open_signoff: SignoffFactory,
    ops_config: Path,
    record: Path,
    home: Home,
    surface: RecordingSurface,
) -> None:
    engine = await open_signoff(ops_config)
    names = engine.rt.registry.names()
    assert "ops__get_pods" in names and "ops__restart_deployment" in names
    assert "ops__delete_namespace" not in names
    assert all(s.name != "ops__delete_namespace" for s in engine.rt.registry.specs())

    await ask(engine, "<@U0SIGNOFF> call ops__get_pods namespace=prod", "1700000000.000100")
    assert surface.cards == []
    assert final_status(home, "ops__get_pods") == (
        "ok",
        "pods in prod: api-7d9 Running, web-5c2 Running",
    )
    assert "pods in prod" in surface.replies[-1][1]

    # A server saying "read-only" does not open the gate: only no_approval does.
    describe = engine.rt.registry.get("ops__describe_pod")
    assert describe is not None and describe.annotations["readOnlyHint"] is True
    await ask(engine, "call ops__describe_pod pod=api-7d9", "1700000000.000150", thread=OTHER)
    (card,) = surface.cards
    assert card.tool_annotations == {"readOnlyHint": True, "destructiveHint": False}
    assert records(record, "describe_pod") == []

    await ask(engine, "call ops__delete_namespace namespace=prod", "1700000000.000200")
    status, content = final_status(home, "ops__delete_namespace")
    assert status == "error" and "unknown tool 'ops__delete_namespace'" in content
    assert [r["tool"] for r in records(record)] == ["get_pods"]


async def test_a_gated_call_approved_days_later_after_restarts_runs_exactly_once(
    open_signoff: SignoffFactory,
    ops_config: Path,
    record: Path,
    home: Home,
    clock: FixedClock,
    surface: RecordingSurface,
    request: pytest.FixtureRequest,
) -> None:
    engine = await open_signoff(ops_config)
    assert engine.rt.registry.get(GATED_CARD_TOOL).gated({})  # type: ignore[union-attr]
    await ask(engine, ASK_RESTART, "1700000000.000100")
    (card,) = surface.cards
    assert card.tool == GATED_CARD_TOOL
    assert card.arguments == {"deployment": "api", "namespace": "prod"}
    assert card.tool_version == engine.rt.registry.get(GATED_CARD_TOOL).version  # type: ignore[union-attr]
    assert records(record) == []  # asked, not run
    await engine.close()  # signoff stops; a stdio server stops with it

    if "http" in request.node.callspec.id:
        server: HttpOpsServer = request.getfixturevalue("http_ops")
        server.restart()  # the server restarts too, on the same address
    clock.advance(timedelta(days=2))
    engine = await open_signoff(ops_config)
    await engine.recover()
    result = await engine.decide(card.id, user="U0BOB", approve=True)
    assert isinstance(result, Decided)
    await engine.idle()
    assert final_status(home, GATED_CARD_TOOL)[0] == "ok"
    await engine.close()

    engine = await open_signoff(ops_config)  # and once more: nothing runs again
    await engine.recover()
    await engine.idle()
    calls = records(record, "restart_deployment")
    assert len(calls) == 1
    assert calls[0]["arguments"] == {"deployment": "api", "namespace": "prod"}
    assert calls[0]["approval_id"] == card.id  # the idempotency key reaches the server


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_a_changed_schema_fails_closed(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    surface: RecordingSurface,
    clock: FixedClock,
    transport: str,
    request: pytest.FixtureRequest,
) -> None:
    config = tmp_path / "signoff.toml"
    if transport == "stdio":
        write_config(config, server_table(f"command = {stdio_command(record, schema='v1')}"))
    else:
        server: HttpOpsServer = request.getfixturevalue("http_ops")
        write_config(config, server_table(f'url = "{server.url}"'))
    engine = await open_signoff(config)
    await ask(engine, ASK_RESTART, "1700000000.000100")
    (card,) = surface.cards
    await engine.close()

    # The server is upgraded while the request waits: restart_deployment takes a new argument.
    if transport == "stdio":
        write_config(config, server_table(f"command = {stdio_command(record, schema='v2')}"))
    else:
        server.restart(schema="v2")  # same address, so the config does not change
    clock.advance(timedelta(days=1))
    engine = await open_signoff(config)
    assert engine.rt.registry.get(GATED_CARD_TOOL).version != card.tool_version  # type: ignore[union-attr]
    # Approving it would run nothing: the click is refused and says why, nothing recorded.
    refused = await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    assert isinstance(refused, Refused) and isinstance(refused.reason, CannotRun)
    assert "changed since it was asked for" in refused.reason
    assert ApprovalRequest.open(home, card.id).decision() is None
    assert records(record, "restart_deployment") == []


async def test_a_server_killed_mid_call_yields_uncertain_never_a_rerun(
    open_signoff: SignoffFactory,
    ops_config: Path,
    record: Path,
    home: Home,
    surface: RecordingSurface,
    clock: FixedClock,
) -> None:
    engine = await open_signoff(ops_config)
    await ask(engine, "call ops__slow_restart deployment=api", "1700000000.000100")
    (card,) = surface.cards
    await engine.decide(card.id, user="U0BOB", approve=True)
    for _ in range(1000):  # the server received the call, and works on it
        if records(record, "slow_restart"):
            break
        await asyncio.sleep(0.01)
    (received,) = records(record, "slow_restart")
    kill(received["pid"])
    await engine.idle()
    status, content = final_status(home, "ops__slow_restart")
    assert status == "uncertain"
    assert "may or may not have taken effect" in content
    await engine.close()

    clock.advance(timedelta(hours=1))
    engine = await open_signoff(ops_config)  # a restart finds the claim: nothing re-runs
    await engine.recover()
    await ask(engine, "what now?", "1700000000.000300")
    assert len(records(record, "slow_restart")) == 1


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_a_server_down_at_approval_time_does_not_spend_the_approval(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    surface: RecordingSurface,
    clock: FixedClock,
    transport: str,
    request: pytest.FixtureRequest,
) -> None:
    down = tmp_path / "server-is-down"
    if transport == "stdio":
        table = server_table(f"command = {stdio_command(record, down_if=down)}")
    else:
        server: HttpOpsServer = request.getfixturevalue("http_ops")
        table = server_table(f'url = "{server.url}"')
    config = write_config(tmp_path / "signoff.toml", table)
    engine = await open_signoff(config)
    await ask(engine, ASK_RESTART, "1700000000.000100")
    (card,) = surface.cards
    await engine.close()

    if transport == "stdio":
        down.touch()  # the server cannot start now
    else:
        server.stop()  # nothing answers on its address now
    clock.advance(timedelta(days=1))
    engine = await open_signoff(config)
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    claim = next(home.sessions_dir.glob(f"*/*/approvals/{card.id}.claim.json"), None)
    assert claim is None, "the approval was spent on a server that was down"
    told = " ".join(t for _, t in surface.replies)
    assert "MCP server ops is down" in told
    assert records(record, "restart_deployment") == []
    # Alice's Home says it too: "approved by @bob" alone reads as if it had run.
    (item,) = await engine.recently_decided("U0ALICE")
    mine = HomeContent(user="U0ALICE", waiting=(), mine=(), decided=(item,), now=clock.now())
    shown = json.dumps(home_view(mine)["blocks"], ensure_ascii=False)
    assert "not run yet: MCP server ops is down" in shown, shown
    await engine.close()

    if transport == "stdio":  # the server is back: the same approval runs, once
        down.unlink()
    else:
        server.start()  # on the same address
    engine = await open_signoff(config)
    await engine.recover()
    await engine.idle()
    calls = records(record, "restart_deployment")
    assert len(calls) == 1 and calls[0]["approval_id"] == card.id
    assert final_status(home, GATED_CARD_TOOL)[0] == "ok"


async def test_a_server_down_at_start_up_does_not_stop_signoff_and_comes_back(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    surface: RecordingSurface,
) -> None:
    down = tmp_path / "server-is-down"
    down.touch()
    config = write_config(
        tmp_path / "signoff.toml", server_table(f"command = {stdio_command(record, down_if=down)}")
    )
    engine = await open_signoff(config)  # starts all the same
    tool = engine.rt.registry.get("ops__get_pods")
    assert tool is not None  # known by its namespace while the listing is unknown
    reason = await tool.unavailable()
    assert reason is not None and reason.startswith("MCP server ops is down: ")
    await ask(engine, "call ops__get_pods namespace=prod", "1700000000.000100")
    status, content = final_status(home, "ops__get_pods")
    assert status == "error" and "MCP server ops is down" in content
    # Asked what it can do meanwhile, the offline model must not say that no tools are
    # configured: they are, and their server is down.
    await ask(engine, "help", "1700000000.000150")
    await engine.idle()
    said = surface.replies[-1][1]
    assert "no tools are configured" not in said and "not answering" in said, said

    down.unlink()
    assert await tool.unavailable() is None  # asked again, it reconnects
    await ask(engine, "call ops__get_pods namespace=prod", "1700000000.000200")
    assert final_status(home, "ops__get_pods")[0] == "ok"
    assert [r["tool"] for r in records(record)] == ["get_pods"]


async def test_a_server_that_dies_is_restarted_and_stopped_on_shutdown(
    tmp_path: Path, record: Path
) -> None:
    spec = McpServerSpec(command=tuple(json.loads(stdio_command(record))), timeout="10s")
    server = McpServer("ops", spec, log_dir=tmp_path / "logs", health_interval=0.2)
    await server.start()
    await server.call("get_pods", {"namespace": "a"}, approval_id="")
    first, before = records(record)[-1]["pid"], server._conn
    kill(first)
    for _ in range(500):  # no call: the watcher notices on its own and starts it again
        if server._conn is not before and server._conn is not None and server._conn.alive:
            break
        await asyncio.sleep(0.02)
    assert server._conn is not before and server.status() == "MCP server ops is up"
    await server.call("get_pods", {"namespace": "b"}, approval_id="")
    second = records(record)[-1]["pid"]
    assert second != first and alive(second)
    assert "ops__get_pods" in [t.name for t in server.tools()]
    await server.aclose()
    for _ in range(300):
        if not alive(second):
            break
        await asyncio.sleep(0.02)
    assert not alive(second), "the server outlived signoff's shutdown"
    assert await server.ensure() == "MCP server ops is stopped (signoff is shutting down)"


async def test_tool_errors_and_long_results(
    open_signoff: SignoffFactory, ops_config: Path, record: Path, home: Home
) -> None:
    engine = await open_signoff(ops_config)
    await ask(engine, 'call ops__list_events {"namespace": "prod"}', "1700000000.000100")
    status, content = final_status(home, "ops__list_events")
    assert status == "ok"
    assert "the whole output is in workspace/tool-output/" in content
    kept = next(home.sessions_dir.glob("*/*/workspace/tool-output/ops__list_events-*.txt"))
    assert kept.read_text().count("\n") == 1999  # all 2000 events, whole
    await ask(engine, "call ops__list_events", "1700000000.000200")
    status, content = final_status(home, "ops__list_events")
    assert status == "error" and "namespace" in content and "required" in content
    assert len(records(record, "list_events")) == 1  # invalid arguments never reach it


async def test_a_stdio_servers_stderr_log_is_kept_under_its_limit(
    tmp_path: Path, record: Path
) -> None:
    # A server that writes to stderr without end must not fill the disk: its log is
    # copied to .1 and truncated once over the limit, and the server writes on.
    logs = tmp_path / "logs"
    server = McpServer(
        "ops", noisy_spec(tmp_path, record), log_dir=logs, health_interval=0.05, stderr_limit=50_000
    )
    await server.start()
    try:
        log, older = logs / "ops.stderr.log", logs / "ops.stderr.log.1"
        for _ in range(500):
            if older.exists():
                break
            await asyncio.sleep(0.02)
        assert older.stat().st_size >= 160_000  # the whole burst, kept once
        assert log.stat().st_size < 50_000
        await server.call("get_pods", {"namespace": "a"}, approval_id="")  # still answers
        first = older.stat().st_mtime_ns
        kill(records(record)[-1]["pid"])
        await server.call("get_pods", {"namespace": "b"}, approval_id="")  # started again
        for _ in range(500):  # its new burst is rotated too
            if older.stat().st_mtime_ns != first and log.stat().st_size < 50_000:
                break
            await asyncio.sleep(0.02)
        assert older.stat().st_mtime_ns != first and log.stat().st_size < 50_000
    finally:
        await server.aclose()


async def test_a_policy_typo_for_a_server_down_at_start_up_is_warned_of_when_it_lists(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Up at start-up, a rule for a tool the server lacks stops signoff (a typo would open
    # a gate); down, it cannot be checked then, so the server checks it when it lists.
    down = tmp_path / "server-is-down"
    down.touch()
    table = server_table(f"command = {stdio_command(record, down_if=down)}")
    rules = "\n[policy.tools.ops__restart_deploymnt]\nquorum = 2\n"
    rules += "\n[policy.tools.ops__restart_deployment]\nquorum = 2\n"
    engine = await open_signoff(write_config(tmp_path / "signoff.toml", table + rules))
    tool = engine.rt.registry.get("ops__get_pods")
    assert tool is not None
    assert "deploymnt" not in caplog.text
    down.unlink()
    assert await tool.unavailable() is None  # it lists its tools now
    warned = [
        r.getMessage() for r in caplog.records if "the policy has a rule for" in r.getMessage()
    ]
    assert warned == [
        "MCP server ops does not offer ops__restart_deploymnt, which the policy has a rule for: the "
        "rule applies to nothing (a typo, or a tool it no longer has?)"
    ]
