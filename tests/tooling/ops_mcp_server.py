"""A small MCP server for the tests, written with the official SDK's ``MCPServer``.

Every call it receives is appended to a JSON-lines record file (fsynced) before the tool
does anything, so a test can count what the server was asked, across restarts of the
server and of signoff.

    python ops_mcp_server.py --record FILE [--schema v1|v2]              # stdio
    python ops_mcp_server.py --record FILE --http PORT_FILE [--port N] [--schema …]  # HTTP
    python ops_mcp_server.py --record FILE --down-if FILE     # exits at once while FILE exists
    python ops_mcp_server.py --record FILE --probes N [--http …]   # N more tools
    python ops_mcp_server.py --record FILE --rolling          # tool names change per listing
    python ops_mcp_server.py --record FILE --bulky MIB        # a listing over MIB MiB
    python ops_mcp_server.py --record FILE --asking [--http …]   # tools that ask mid-call
    python ops_mcp_server.py --record FILE --busy [--http …]     # no listing during a call
    python ops_mcp_server.py --record FILE --coded [--http …]    # a JSON-RPC error answer

``--schema v2`` adds a parameter to ``restart_deployment`` (its input schema changes).
``--probes N`` adds ``probe_000`` … read-only tools (a server offering many).
``--rolling``: the Nth listing also shows ``report_N`` (``get_pods`` under a dated-like
name) and two names no model accepts, ``bad.N`` and ``bad.always``: names that come and go.
``--bulky MIB`` adds ``bulky``, whose description alone is MIB MiB long.
``--asking`` adds two tools that ask the client something after they start: ``drain_node``
records the call, then asks for a confirmation (``ctx.elicit``, which the SDK answers with
an error for a client that offers none); ``cordon_node`` records the call, then answers
``input_required`` (MCP 2026's way for a tool to ask before it goes on).
``--busy`` adds ``hold_restart``, which records the call, waits until the file FILE.go
exists and records that it finished; while it runs, a listing is refused ("busy").
``--coded`` adds ``rollout``, which records the call and answers with the JSON-RPC error
``code`` it is given (a server's own error, of whatever number its toolkit uses), and
``retire_node``, listed but refused before any of it runs, with the error ``code`` it is
given and the message "Unknown tool" (a server whose dispatcher no longer has a tool its
listing still shows): only the refusal is recorded, as ``refused retire_node``.
``slow_restart`` records the call and then waits for an hour: a test kills the server
mid-call. Over HTTP the server binds an ephemeral port on 127.0.0.1 and writes it to
PORT_FILE once it listens.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
from pathlib import Path
from typing import Any

import anyio
from mcp import MCPError
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, InputRequiredResult, ToolAnnotations
from mcp.types import Tool as McpToolInfo
from pydantic import BaseModel


def build(record: Path, schema: str, probes: int = 0) -> MCPServer:
    server: MCPServer = MCPServer("ops", instructions="Kubernetes-like operations for tests.")

    def log(tool: str, arguments: dict[str, Any], ctx: Context | None = None) -> None:
        meta: dict[str, Any] = {}
        if ctx is not None:
            try:
                meta = dict(ctx.request_context.meta or {})
            except Exception:
                meta = {}
        line = {
            "tool": tool,
            "arguments": arguments,
            "approval_id": meta.get("signoff/approval_id", ""),
            "pid": os.getpid(),
        }
        with record.open("a") as handle:
            handle.write(json.dumps(line, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def get_pods(namespace: str, ctx: Context) -> str:
        """List the pods of a namespace.

        Args:
            namespace: the namespace, e.g. prod
        """
        log("get_pods", {"namespace": namespace}, ctx)
        return f"pods in {namespace}: api-7d9 Running, web-5c2 Running"

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, destructive_hint=False))
    def describe_pod(pod: str, ctx: Context) -> str:
        """Describe a pod (says it is read-only; the config does not exempt it)."""
        log("describe_pod", {"pod": pod}, ctx)
        return f"pod {pod}: Running"

    if schema == "v1":

        @server.tool(annotations=ToolAnnotations(destructive_hint=True, read_only_hint=False))
        def restart_deployment(deployment: str, namespace: str, ctx: Context) -> str:
            """Restart a deployment (rolling)."""
            log("restart_deployment", {"deployment": deployment, "namespace": namespace}, ctx)
            return f"deployment.apps/{deployment} restarted in {namespace}"

    else:

        @server.tool(annotations=ToolAnnotations(destructive_hint=True, read_only_hint=False))
        def restart_deployment(
            deployment: str, namespace: str, ctx: Context, grace_seconds: int = 30
        ) -> str:
            """Restart a deployment (rolling), with a grace period."""
            arguments = {"deployment": deployment, "namespace": namespace, "grace": grace_seconds}
            log("restart_deployment", arguments, ctx)
            return f"deployment.apps/{deployment} restarted in {namespace}"

    @server.tool(annotations=ToolAnnotations(destructive_hint=True))
    def delete_namespace(namespace: str, ctx: Context) -> str:
        """Delete a namespace and everything in it."""
        log("delete_namespace", {"namespace": namespace}, ctx)
        return f"namespace {namespace} deleted"

    @server.tool()
    async def slow_restart(deployment: str, ctx: Context) -> str:
        """Restart a deployment slowly (an hour)."""
        log("slow_restart", {"deployment": deployment}, ctx)
        await anyio.sleep(3600)
        return "done"

    @server.tool()
    def list_events(namespace: str, ctx: Context) -> str:
        """List recent events of a namespace (a lot of text)."""
        log("list_events", {"namespace": namespace}, ctx)
        return "\n".join(f"event {n}: pod api-{n} pulled image" for n in range(2000))

    @server.tool()
    def scale(deployment: str, replicas: int, ctx: Context) -> str:
        """Scale a deployment; more than 50 replicas is refused."""
        log("scale", {"deployment": deployment, "replicas": replicas}, ctx)
        if replicas > 50:
            raise ValueError(f"quota exceeded: {replicas} replicas asked, 50 allowed")
        return f"deployment.apps/{deployment} scaled to {replicas}"

    for n in range(probes):
        probe = _probe(f"probe_{n:03d}", log)
        server.add_tool(probe, name=probe.__name__, description=probe.__doc__)
    return server


class _Confirm(BaseModel):
    sure: bool


def asking(server: MCPServer, record: Path) -> None:
    def log(tool: str, arguments: dict[str, Any]) -> None:
        line = {"tool": tool, "arguments": arguments, "pid": os.getpid()}
        with record.open("a") as handle:
            handle.write(json.dumps(line, sort_keys=True) + "\n")

    @server.tool()
    async def drain_node(node: str, ctx: Context) -> str:
        """Drain a node: evicts its pods, then asks before it powers the node off."""
        log("drain_node", {"node": node})
        answer = await ctx.elicit(f"Pods of {node} evicted. Power it off too?", _Confirm)
        return f"node {node} drained ({answer.action})"

    @server.tool()
    def cordon_node(node: str) -> CallToolResult | InputRequiredResult:
        """Cordon a node, asking first which taint to put on it."""
        log("cordon_node", {"node": node})
        question = {
            "method": "elicitation/create",
            "params": {
                "mode": "form",
                "message": "Which taint?",
                "requestedSchema": {"type": "object", "properties": {}},
            },
        }
        return InputRequiredResult(input_requests={"taint": question})


def busy(server: MCPServer, record: Path) -> None:
    running: list[str] = []
    go = record.with_name(record.name + ".go")

    def log(entry: dict[str, Any]) -> None:
        with record.open("a") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")

    @server.tool()
    async def hold_restart(deployment: str) -> str:
        """Restart a deployment, holding it until the test says go."""
        log({"tool": "hold_restart", "arguments": {"deployment": deployment}, "pid": os.getpid()})
        running.append(deployment)
        try:
            while not go.exists():  # noqa: ASYNC110 (the test, another process, makes it)
                await anyio.sleep(0.02)
        finally:
            running.remove(deployment)
        log({"tool": "hold_restart finished", "arguments": {}, "pid": os.getpid()})
        return f"deployment.apps/{deployment} restarted"

    listed = server.list_tools

    async def listing() -> list[McpToolInfo]:
        if running:
            log({"tool": "listing refused", "arguments": {}, "pid": os.getpid()})
            raise MCPError(code=-32603, message="busy: try again later")
        return await listed()

    server.list_tools = listing  # type: ignore[method-assign]


def coded(server: MCPServer, record: Path) -> None:
    @server.tool()
    def rollout(deployment: str, code: int) -> str:
        """Roll a deployment out; fails upstream with the error ``code``."""
        line = {"tool": "rollout", "arguments": {"deployment": deployment}, "pid": os.getpid()}
        with record.open("a") as handle:
            handle.write(json.dumps(line, sort_keys=True) + "\n")
        raise MCPError(code=code, message=f"rollout of {deployment} failed upstream")

    @server.tool()
    def rollout_loudly(deployment: str, code: int) -> str:
        """Roll a deployment out; fails with an error ``code`` of 2 MB, on one line."""
        line = {"tool": "rollout_loudly", "arguments": {"deployment": deployment}}
        with record.open("a") as handle:
            handle.write(json.dumps(line, sort_keys=True) + "\n")
        raise MCPError(code=code, message="rollout failed: <!channel> " + "E" * (2 << 20))

    @server.tool()
    def retire_node(node: str, code: int) -> str:
        """Retire a node (refused before it starts: never reached)."""
        raise AssertionError("retire_node ran")

    called = server.call_tool

    async def calling(
        name: str, arguments: dict[str, Any], context: Context | None = None
    ) -> CallToolResult | InputRequiredResult:
        if name != "retire_node":
            return await called(name, arguments, context)
        line = {"tool": "refused retire_node", "arguments": arguments, "pid": os.getpid()}
        with record.open("a") as handle:
            handle.write(json.dumps(line, sort_keys=True) + "\n")
        raise MCPError(code=int(arguments["code"]), message=f"Unknown tool: {name}")

    server.call_tool = calling  # type: ignore[method-assign]

    listed = server.list_tools
    unlist = record.with_name(record.name + ".unlist")

    async def listing() -> list[McpToolInfo]:
        if unlist.exists():  # the test says when: a listing refused with 2 MB of words
            raise MCPError(code=-32603, message="listing failed: <!here> " + "L" * (2 << 20))
        return await listed()

    server.list_tools = listing  # type: ignore[method-assign]


def _probe(name: str, log: Any) -> Any:
    def probe(target: str) -> str:
        """Probe a target (one of many tools)."""
        log(name, {"target": target})
        return f"{name}: {target} answers"

    probe.__name__ = name
    return probe


def rolling(server: MCPServer) -> None:
    listed = server.list_tools
    count = iter(range(1 << 30))

    async def listing() -> list[McpToolInfo]:
        n = next(count)
        tools = await listed()
        pods = next(t for t in tools if t.name == "get_pods")
        more = [f"report_{n:04d}", f"bad.{n:04d}", "bad.always"]
        return [*tools, *(pods.model_copy(update={"name": name}) for name in more)]

    server.list_tools = listing  # type: ignore[method-assign]


async def serve_http(server: MCPServer, port_file: Path, port: int) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    # Listening before the port is announced: a client that connects before uvicorn has
    # started waits in the backlog instead of being refused (uvicorn listens again, harmless).
    sock.listen(128)
    app = server.streamable_http_app()
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uvi = uvicorn.Server(config)
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(sock.getsockname()[1]))
    tmp.rename(port_file)
    await uvi.serve(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", required=True, type=Path)
    parser.add_argument("--schema", default="v1", choices=["v1", "v2"])
    parser.add_argument("--http", type=Path, help="serve streamable HTTP; write the port here")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--down-if", type=Path, help="exit at once (a broken server) if it exists")
    parser.add_argument("--probes", type=int, default=0, help="this many probe_NNN tools more")
    parser.add_argument("--rolling", action="store_true", help="tool names change per listing")
    parser.add_argument("--bulky", type=int, default=0, help="a tool described in this many MiB")
    parser.add_argument("--asking", action="store_true", help="tools that ask mid-call")
    parser.add_argument("--busy", action="store_true", help="no listing while a call runs")
    parser.add_argument("--coded", action="store_true", help="a tool answering an error code")
    args = parser.parse_args()
    if args.down_if is not None and args.down_if.exists():
        raise SystemExit("ops_mcp_server: down for the test")
    server = build(args.record, args.schema, args.probes)
    if args.rolling:
        rolling(server)
    if args.asking:
        asking(server, args.record)
    if args.busy:
        busy(server, args.record)
    if args.coded:
        coded(server, args.record)
    if args.bulky:
        probe = _probe("bulky", lambda *_: None)
        server.add_tool(probe, name="bulky", description="x" * (args.bulky << 20))
    if args.http is not None:
        anyio.run(serve_http, server, args.http, args.port)
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
