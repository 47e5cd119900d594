"""A stdio MCP server written by hand, not with the ``mcp`` SDK: it speaks the JSON-RPC
wire protocol the way servers built with other toolkits do, including what the Python
SDK would refuse to send. For tests of what signoff does with such a server.

    python raw_mcp_server.py --record FILE --listing empty-schema
    python raw_mcp_server.py --record FILE --ref URL
    python raw_mcp_server.py --record FILE --input-schema JSON
    python raw_mcp_server.py --record FILE --result garbage
    python raw_mcp_server.py --record FILE --twice
    python raw_mcp_server.py --record FILE --description-file FILE
    python raw_mcp_server.py --record FILE --chatter N
    python raw_mcp_server.py --record FILE --result endless|huge [--once FILE]

``--listing empty-schema``: ``get_x`` is advertised with ``"inputSchema": {}`` (no
``"type": "object"``, as some servers send for a tool without parameters); with
``--ref`` its schema's property ``a`` is a ``$ref`` to the URL; ``--input-schema`` gives
its whole schema. ``--result garbage``:
a ``tools/call`` runs (and is recorded) and then answered with a result that is not a
valid ``CallToolResult``. ``--twice``: ``get_x`` is listed twice, the second time with a
``force`` parameter and another description. ``--description-file``: get_x's description
is that file's text. ``--chatter N``: N lines of debug output on stdout before each answer.
``--result endless``: a ``tools/call`` is answered with a line that never ends (the server
writes until its stdout closes); ``huge``: with a whole answer 40 MiB long, on one line.
With ``--once F`` either happens only while F does not exist, which the first creates.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

SCHEMAS: dict[str, dict[str, Any]] = {
    "valid": {"type": "object", "properties": {"a": {"type": "string"}}},
    "empty-schema": {},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", required=True, type=Path)
    parser.add_argument("--listing", default="valid", choices=sorted(SCHEMAS))
    parser.add_argument("--ref", help="a URL the schema refers to")
    parser.add_argument("--input-schema", type=json.loads, help="get_x's inputSchema")
    parser.add_argument("--twice", action="store_true", help="list get_x twice")
    parser.add_argument("--description-file", type=Path, help="get_x's description")
    parser.add_argument("--chatter", type=int, default=0, help="debug lines before answers")
    parser.add_argument(
        "--result", default="valid", choices=["valid", "garbage", "endless", "huge"]
    )
    parser.add_argument("--once", type=Path, help="endless/huge only while this is absent")
    args = parser.parse_args()
    schema = SCHEMAS[args.listing]
    if args.ref:
        schema = {"type": "object", "properties": {"a": {"$ref": args.ref}}}
    if args.input_schema is not None:
        schema = args.input_schema
    described = args.description_file.read_text() if args.description_file else "Read x."

    def send(message: dict[str, Any]) -> None:
        for n in range(args.chatter):
            sys.stdout.write(f"DEBUG handling request, step {n}\n")
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    for line in sys.stdin:
        request = json.loads(line)
        if "id" not in request:
            continue  # a notification
        method, params = request.get("method"), request.get("params") or {}
        result: dict[str, Any] = {}
        if method == "initialize":
            result = {
                "protocolVersion": params["protocolVersion"],
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "raw", "version": "1"},
            }
        elif method == "tools/list":
            tools = [{"name": "get_x", "description": described, "inputSchema": schema}]
            if args.twice:
                forced = {"type": "object", "properties": {"force": {"type": "boolean"}}}
                tools.append({"name": "get_x", "description": "Force x.", "inputSchema": forced})
            result = {"tools": tools}
        elif method == "tools/call":
            with args.record.open("a") as handle:
                handle.write(json.dumps({"tool": params["name"]}) + "\n")
            ok = [{"type": "text", "text": "done"}]
            if args.result in ("endless", "huge") and not (args.once and args.once.exists()):
                if args.once:
                    args.once.touch()
                overflow(request["id"], endless=args.result == "endless")
                continue
            result = {"content": "done" if args.result == "garbage" else ok}
        send({"jsonrpc": "2.0", "id": request["id"], "result": result})


def overflow(request_id: object, *, endless: bool) -> None:
    head = json.dumps({"jsonrpc": "2.0", "id": request_id, "result": {"content": [
        {"type": "text", "text": "@"}]}}).split("@")  # fmt: skip
    sys.stdout.write(head[0])
    piece = "x" * (1 << 20)
    try:
        for _ in range(40) if not endless else iter(int, 1):
            sys.stdout.write(piece)
        sys.stdout.write(head[1] + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        sys.exit(0)


if __name__ == "__main__":
    main()
