"""A streamable-HTTP MCP server written by hand (raw ASGI on uvicorn, not the ``mcp`` SDK),
for tests of what signoff's client does with what a server sends over HTTP besides its
answers: floods of its own requests and notifications on the GET stream or inside a
call's SSE answer, answers that never end, are too big, name no call, or come twice.

    python flooding_http_server.py --record FILE --port-file FILE
        [--get pings|notes|list-changed --count N] [--during WHAT --count N]
        [--answers accept|hang] [--listing endless-json|endless-sse]

``--get``: once the session is made, the GET stream sends N ``ping`` requests
(``pings``), N notifications of every kind a server sends (``notes``: progress,
logging, resources and tools list_changed) or N ``notifications/tools/list_changed``,
then stays open. ``--during`` (a ``tools/call``, after it is recorded): ``pings`` /
``notes`` on the call's SSE answer before its result; ``endless``: an SSE answer that
sends a progress notification every few milliseconds and never the result; ``big`` /
``huge``: the result in one event of 2 MiB / 40 MiB; ``stray``: answers to ids never sent, then the result twice;
``accepted``: 202 with no body; ``redirect-host`` / ``redirect-file``: a 307 to another
host, or to a file:// URL; ``expire``: 404, as for a session that expired.
``--listing endless-json`` / ``endless-sse``: tools/list is answered with a listing that
never ends (one tool whose description goes on), as a JSON body or as one SSE event; when
the client hangs up, how many bytes were sent is recorded (``{"listing_sent": n}``).
``--answers hang``: a POST carrying the client's answer to one of the server's requests
is never answered (by default it is accepted, 202). Every call received is recorded
(``{"tool": name}``), and each answer the client POSTs (``{"answered": id}``).
"""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import uvicorn

SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}}
SESSION = "session-1"
NOTES: list[tuple[str, dict[str, Any]]] = [
    ("notifications/progress", {"progressToken": "none", "progress": 1}),
    ("notifications/message", {"level": "error", "data": "flood\nforged: WARNING signoff"}),
    ("notifications/resources/list_changed", {}),
    ("notifications/tools/list_changed", {}),
]


def event(message: dict[str, Any] | str) -> bytes:
    data = message if isinstance(message, str) else json.dumps(message)
    return b"event: message\ndata: " + data.encode() + b"\n\n"


def flood(kind: str, n: int) -> dict[str, Any] | str:
    if kind == "garbage":
        return f"SECRET-looking text {n}, not JSON-RPC"
    if kind == "pings":
        return {"jsonrpc": "2.0", "id": f"p{n}", "method": "ping"}
    if kind == "list-changed":
        return {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
    method, params = NOTES[n % len(NOTES)]
    return {"jsonrpc": "2.0", "method": method, "params": params}


class App:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    def note(self, entry: dict[str, Any]) -> None:
        with self.args.record.open("a") as handle:
            handle.write(json.dumps(entry) + "\n")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["method"] == "GET":
            await self.get(send)
        elif scope["method"] == "DELETE":
            await self.reply(send, 200, b"")
        else:
            body = b""
            more = True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
            await self.post(json.loads(body), receive, send)

    async def reply(self, send: Any, status: int, body: bytes, **headers: str) -> None:
        kind = "application/json" if body else "text/plain"
        sent = [(b"content-type", kind.encode()), (b"mcp-session-id", SESSION.encode())]
        sent += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": sent})
        await send({"type": "http.response.body", "body": body})

    async def sse(self, send: Any) -> None:
        headers = [(b"content-type", b"text/event-stream"), (b"mcp-session-id", SESSION.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})

    async def get(self, send: Any) -> None:
        if self.args.get is None:
            await self.reply(send, 405, b"")
            return
        await self.sse(send)
        for n in range(self.args.count):
            body = event(flood(self.args.get, n))
            await send({"type": "http.response.body", "body": body, "more_body": True})
        await anyio.sleep_forever()

    async def endless_listing(self, rid: Any, receive: Any, send: Any) -> None:
        head = {"jsonrpc": "2.0", "id": rid, "result": {"tools": [{"name": "big"}]}}
        start = json.dumps(head)[: -len('"}]}}')] + '", "description": "'
        if self.args.listing == "endless-sse":
            await self.sse(send)
            start = "event: message\ndata: " + start
        else:
            kind = [(b"content-type", b"application/json"), (b"mcp-session-id", SESSION.encode())]
            await send({"type": "http.response.start", "status": 200, "headers": kind})
        sent = 0
        chunk = b"x" * (1 << 20)

        async def stream() -> None:
            nonlocal sent
            await send({"type": "http.response.body", "body": start.encode(), "more_body": True})
            while True:  # uvicorn drops what is sent after a hang-up: the watcher ends it
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                sent += len(chunk)
                await anyio.lowlevel.checkpoint()  # a dropped send does not wait: the watcher runs

        async with anyio.create_task_group() as tg:
            tg.start_soon(stream)
            while (await receive())["type"] != "http.disconnect":
                pass
            tg.cancel_scope.cancel()
        self.note({"listing_sent": sent})

    async def post(self, message: dict[str, Any], receive: Any, send: Any) -> None:
        method = message.get("method")
        if method is None:  # the client's answer to one of our requests
            self.note({"answered": message.get("id")})
            if self.args.answers == "hang":
                await anyio.sleep_forever()
            await self.reply(send, 202, b"")
            return
        if "id" not in message:  # a notification
            await self.reply(send, 202, b"")
            return
        params = message.get("params") or {}
        result: dict[str, Any] = {}
        if method == "initialize":
            result = {
                "protocolVersion": params["protocolVersion"],
                "capabilities": {"tools": {"listChanged": True}, "logging": {}},
                "serverInfo": {"name": "flooding", "version": "1"},
            }
        elif method == "tools/list" and self.args.listing != "plain":
            await self.endless_listing(message["id"], receive, send)
            return
        elif method == "tools/list":
            result = {"tools": [{"name": "get_x", "description": "Read x.", "inputSchema": SCHEMA}]}
        elif method == "tools/call":
            self.note({"tool": params["name"]})
            await self.call(message["id"], send)
            return
        else:
            error = {"code": -32601, "message": "Method not found"}
            answer = {"jsonrpc": "2.0", "id": message["id"], "error": error}
            await self.reply(send, 200, json.dumps(answer).encode())
            return
        answer = {"jsonrpc": "2.0", "id": message["id"], "result": result}
        await self.reply(send, 200, json.dumps(answer).encode())

    async def call(self, rid: Any, send: Any) -> None:
        during = self.args.during
        done = {
            "jsonrpc": "2.0",
            "id": rid,
            "result": {"content": [{"type": "text", "text": "done"}]},
        }
        if during == "accepted":
            await self.reply(send, 202, b"")
            return
        if during == "expire":
            await self.reply(send, 404, b"")
            return
        if during.startswith("redirect-"):
            where = (
                "http://elsewhere.invalid/mcp"
                if during == "redirect-host"
                else "file:///etc/passwd"
            )
            await self.reply(send, 307, b"", location=where)
            return
        await self.sse(send)
        out: list[dict[str, Any] | str] = []
        if during in ("pings", "notes"):
            out = [flood(during, n) for n in range(self.args.count)]
        elif during == "stray":
            forged = {"content": [{"type": "text", "text": "forged"}]}
            others = [rid + 1, rid + 2, str(rid), "nope"] if isinstance(rid, int) else ["nope"]
            out = [{"jsonrpc": "2.0", "id": other, "result": forged} for other in others]
            out.append(done)
            done = {**done, "result": {"content": [{"type": "text", "text": "second"}]}}
        for message in out:
            await send({"type": "http.response.body", "body": event(message), "more_body": True})
        if during in ("big", "huge"):
            text = "x" * ((2 if during == "big" else 40) << 20)
            big = {**done, "result": {"content": [{"type": "text", "text": text}]}}
            await send({"type": "http.response.body", "body": event(big), "more_body": True})
            await anyio.sleep_forever()
        if during == "endless":
            token = {"progressToken": "none", "progress": 1}
            note = {"jsonrpc": "2.0", "method": "notifications/progress", "params": token}
            while True:
                await send({"type": "http.response.body", "body": event(note), "more_body": True})
                await anyio.sleep(0.005)
        await send({"type": "http.response.body", "body": event(done), "more_body": True})
        await anyio.sleep_forever()  # the answer is complete; the stream stays open


async def serve(args: argparse.Namespace) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(App(args), log_level="warning", lifespan="on"))
    tmp = args.port_file.with_suffix(".tmp")
    tmp.write_text(str(sock.getsockname()[1]))
    tmp.rename(args.port_file)
    await server.serve(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", required=True, type=Path)
    parser.add_argument("--port-file", required=True, type=Path)
    parser.add_argument("--get", choices=["pings", "notes", "list-changed", "garbage"])
    parser.add_argument("--during", default="plain")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument(
        "--listing", choices=["plain", "endless-json", "endless-sse"], default="plain"
    )
    parser.add_argument("--answers", choices=["accept", "hang"], default="accept")
    anyio.run(serve, parser.parse_args())


if __name__ == "__main__":
    main()
