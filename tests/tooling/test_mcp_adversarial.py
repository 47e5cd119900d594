"""MCP servers that misbehave, through the whole engine: a schema that changes after the
approval was checked, an answer lost at a gateway, results the SDK cannot read, a listing
it refuses. Real servers in real processes: the SDK's ``MCPServer``
(``rogue_mcp_server.py``) or a hand-written JSON-RPC server (``raw_mcp_server.py``)."""

from __future__ import annotations

import contextlib
import gc
import io
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from engine_support import THREAD, message, transcript
from mcp_fixture_kit import (
    HttpOpsServer,
    alive,
    records,
    stdio_command,
    toml_str,
    wait_for,
    write_config,
)
from test_command_adversarial import plant_link

from agent_core.engine import Engine
from agent_core.messages import EventMessage, ToolResultMessage
from agent_core.surface import RecordingSurface
from agent_core.tools import ToolContext
from agent_core.tools.mcp_connection import McpConnection, ServerDown
from agent_core.tools.mcp_server import McpServer
from agent_core.tools.mcp_spec import McpServerSpec
from agent_core.tools.mcp_tool import DESCRIPTION_LIMIT
from bot.logs import setup_logging
from sessions import Home

if TYPE_CHECKING:
    from conftest import SignoffFactory

HERE = Path(__file__).resolve().parent
ROGUE = HERE / "rogue_mcp_server.py"
RAW = HERE / "raw_mcp_server.py"


def config(path: Path, transport: str, *, no_approval: str = '["get_*"]') -> Path:
    return write_config(
        path,
        '[policy.default]\nexpires_after = "7d"\n\n'
        f'[mcp.servers.ops]\n{transport}\nno_approval = {no_approval}\ntimeout = "10s"\n',
    )


def command(script: Path, *args: str | Path) -> str:
    parts = [sys.executable, str(script), *map(str, args)]
    return "command = [" + ", ".join(toml_str(p) for p in parts) + "]"


def final(home: Home, name: str) -> tuple[str, str]:
    for m in reversed(transcript(home)):
        if isinstance(m, ToolResultMessage) and m.name == name:
            return str(m.status), m.content
        if isinstance(m, EventMessage) and f"`{name}`" in m.text:
            return str(m.status), m.text
    raise AssertionError(f"no result for {name}")


async def ask(engine: Engine, text: str, ts: str) -> None:
    await engine.ingest(message(text, ts=ts, thread=THREAD))
    await engine.idle()


@contextlib.contextmanager
def rogue_http(tmp_path: Path, record: Path, answer: str, *more: str) -> Iterator[str]:
    """The rogue server on streamable HTTP behind a "gateway" that replaces the answer to
    every tools/call after the server ran it (``--answer``); yields its URL."""
    port_file = tmp_path / "port"
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    proc = subprocess.Popen(
        [sys.executable, str(ROGUE), "--record", str(record), "--http", str(port_file),
         "--answer", answer, *more],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(port_file.exists, what="the HTTP MCP server to listen")
        yield f"http://127.0.0.1:{port_file.read_text()}/mcp"
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def gateway(tmp_path: Path, record: Path) -> Iterator[str]:
    """The rogue server behind a gateway that answers 502 to every tools/call it ran."""
    with rogue_http(tmp_path, record, "502") as url:
        yield url


async def test_a_schema_that_changes_after_the_approval_was_checked_fails_closed(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    surface: RecordingSurface,
) -> None:
    # The server advertises v1 until it has answered one listing after `flip` exists,
    # and v2 (a new `force` parameter) from the next listing on: the listing resume takes
    # to check the approval shows v1, the one the call takes right before it is sent v2.
    flip = tmp_path / "flip"
    engine = await open_signoff(
        config(tmp_path / "signoff.toml", command(ROGUE, "--record", record, "--flip-when", flip))
    )
    await ask(engine, "call ops__restart_deployment deployment=api", "1700000000.000100")
    (card,) = surface.cards
    flip.touch()
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    assert records(record) == [], "the call ran against a schema nobody approved"
    status, content = final(home, "ops__restart_deployment")
    assert status == "error" and "the tool changed since it was approved" in content


async def test_a_server_that_dies_between_the_check_and_the_call_sends_nothing_ever(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    surface: RecordingSurface,
) -> None:
    # Resume's unavailable() gets an answer; the listing the call takes right after, once
    # the approval is claimed, finds the server gone. Known limit (docs/tools.md): the
    # approval is spent then, since a claim is never taken back; what must hold is that
    # the thread is told nothing was sent, and that nothing is sent later either.
    die = tmp_path / "die"
    cfg = config(tmp_path / "signoff.toml", command(ROGUE, "--record", record, "--die-when", die))
    engine = await open_signoff(cfg)
    await ask(engine, "call ops__restart_deployment deployment=api", "1700000000.000100")
    (card,) = surface.cards
    die.touch()
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    status, content = final(home, "ops__restart_deployment")
    assert status == "error" and "is down" in content and "nothing was sent" in content
    await engine.close()

    die.unlink()
    (tmp_path / "die.dead").unlink()  # the server is back: the spent call is not sent
    engine = await open_signoff(cfg)
    await engine.recover()
    await engine.idle()
    assert records(record, "restart_deployment") == []
    assert final(home, "ops__restart_deployment")[0] == "error"


async def test_an_answer_lost_at_a_gateway_after_the_call_ran_is_uncertain(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    gateway: str,
    record: Path,
    home: Home,
    surface: RecordingSurface,
) -> None:
    engine = await open_signoff(config(tmp_path / "signoff.toml", f"url = {toml_str(gateway)}"))
    await ask(engine, "call ops__restart_deployment deployment=api", "1700000000.000100")
    (card,) = surface.cards
    await engine.decide(card.id, user="U0BOB", approve=True)
    await engine.idle()
    assert len(records(record, "restart_deployment")) == 1  # it ran
    status, content = final(home, "ops__restart_deployment")
    # A 502 says nothing about whether the upstream acted: not "refused", not "failed".
    assert status == "uncertain", content
    assert "refused" not in content


@pytest.mark.parametrize("answer", ["garbled", "accepted"])
async def test_an_answer_garbled_or_withheld_after_the_call_ran_is_uncertain(
    open_signoff: SignoffFactory, tmp_path: Path, record: Path, home: Home, answer: str
) -> None:
    # The server ran the call; its answer then came back cut short (200, JSON that ends
    # mid-object) or as "202 Accepted". The SDK reports both as JSON-RPC errors it made
    # up itself (PARSE_ERROR, INVALID_REQUEST), which signoff read as the server saying
    # it refused the call: "error", which the model reads as "nothing happened, retry".
    with rogue_http(tmp_path, record, answer) as url:
        engine = await open_signoff(config(tmp_path / "signoff.toml", f"url = {toml_str(url)}"))
        await ask(engine, "call ops__get_status", "1700000000.000100")
        assert len(records(record, "get_status")) == 1  # it ran
        status, content = final(home, "ops__get_status")
        assert status == "uncertain", content
        assert "refused" not in content


@pytest.mark.parametrize(
    ("script", "args", "tool"),
    [
        (ROGUE, ("--promise-output",), "get_status"),  # a result unlike its output schema
        (RAW, ("--result", "garbage"), "get_x"),  # a result that is not a CallToolResult
    ],
)
async def test_a_result_the_sdk_cannot_accept_after_the_call_ran_is_uncertain(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    script: Path,
    args: tuple[str, ...],
    tool: str,
) -> None:
    transport = command(script, "--record", record, *args)
    engine = await open_signoff(config(tmp_path / "signoff.toml", transport))
    await ask(engine, f"call ops__{tool}", "1700000000.000100")
    assert len(records(record, tool)) == 1  # it ran
    status, content = final(home, f"ops__{tool}")
    # The server acted and then answered something unreadable: the model must not read
    # "error" (it would try again), but that the outcome is unknown.
    assert status == "uncertain", content


async def test_a_listing_the_sdk_refuses_does_not_stop_start_up(
    open_signoff: SignoffFactory, tmp_path: Path, record: Path, home: Home
) -> None:
    transport = command(RAW, "--record", record, "--listing", "empty-schema")
    engine = await open_signoff(config(tmp_path / "signoff.toml", transport))  # starts
    tool = engine.rt.registry.get("ops__get_x")
    assert tool is not None
    reason = await tool.unavailable()
    assert reason is not None and reason.startswith("MCP server ops is down: ")
    await ask(engine, "call ops__get_x", "1700000000.000100")
    assert final(home, "ops__get_x")[0] == "error"
    assert records(record) == []


@pytest.fixture
def listener() -> Iterator[tuple[str, list[bytes]]]:
    """A TCP listener on 127.0.0.1 that keeps the first bytes of every connection (and
    answers none): ``(url, requests)``."""
    sock = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    seen.append(conn.recv(4096))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/internal/secret.json", seen
    finally:
        # close() alone leaves accept() blocked on Linux; shutdown() wakes it at once.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        thread.join(5)


async def test_a_schema_that_refers_to_a_url_is_never_fetched_and_the_call_is_refused(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    listener: tuple[str, list[bytes]],
) -> None:
    # A server's input schema may say {"$ref": "http://…"}: validating the model's
    # arguments must not make signoff fetch it (from where signoff sits in the network,
    # blocking its event loop meanwhile); the call is refused, the turn goes on.
    url, requests = listener
    transport = command(RAW, "--record", record, "--ref", url)
    engine = await open_signoff(config(tmp_path / "signoff.toml", transport))
    await ask(engine, 'call ops__get_x {"a": "b"}', "1700000000.000100")
    assert requests == [], f"signoff fetched the schema's $ref: {requests[0][:60]!r}"
    assert list(engine.errors) == []
    status, content = final(home, "ops__get_x")
    assert status == "error" and url in content
    assert records(record) == []


async def test_a_server_that_never_finishes_the_handshake_is_down_within_its_timeout(
    tmp_path: Path,
) -> None:
    # A stdio server that starts and never answers `initialize`: down after its timeout,
    # not ten seconds more while the close waited for a stop nothing in the handshake
    # looks at (start-up and every reconnect of the watcher paid it).
    pid_file = tmp_path / "pid"
    script = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    )
    spec = McpServerSpec(command=(sys.executable, "-c", script), timeout="1s")
    started = time.monotonic()
    with (tmp_path / "stderr.log").open("w") as errlog, pytest.raises(ServerDown):
        await McpConnection.open("ops", spec, errlog=errlog)
    assert time.monotonic() - started < 5
    pid = int(pid_file.read_text())
    wait_for(lambda: not alive(pid), what="the server process to be stopped")


async def test_a_schema_whose_ref_loops_refuses_the_call_and_the_turn_goes_on(
    open_signoff: SignoffFactory, tmp_path: Path, record: Path, home: Home
) -> None:
    # {"a": {"$ref": "#/properties/a"}}: validating {"a": …} against it never ends. The
    # call is refused with a reason the model can read; the turn is not crashed.
    transport = command(RAW, "--record", record, "--ref", "#/properties/a")
    engine = await open_signoff(config(tmp_path / "signoff.toml", transport))
    await ask(engine, 'call ops__get_x {"a": "b"}', "1700000000.000100")
    assert list(engine.errors) == []
    status, content = final(home, "ops__get_x")
    assert status == "error" and "refers to itself" in content, content
    assert records(record) == []


@pytest.mark.parametrize(
    ("schema", "arguments"),
    [
        ({"type": "object", "$id": 5}, '{"a": "b"}'),  # the validator cannot be built
        # The model's integer is too large for the float multipleOf is checked in.
        ({"type": "object", "properties": {"a": {"multipleOf": 0.5}}}, '{"a": 1' + "0" * 400 + "}"),
    ],
)
async def test_a_schema_signoff_cannot_check_against_refuses_the_call(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    schema: dict[str, object],
    arguments: str,
) -> None:
    transport = command(RAW, "--record", record, "--input-schema", json.dumps(schema))
    engine = await open_signoff(config(tmp_path / "signoff.toml", transport))
    await ask(engine, f"call ops__get_x {arguments}", "1700000000.000100")
    assert list(engine.errors) == []
    status, content = final(home, "ops__get_x")
    assert status == "error" and "ops__get_x" in content, content
    assert records(record) == []


@pytest.mark.parametrize("ref", ["url", "#/properties/b"])
async def test_an_edit_is_checked_without_fetching_the_schemas_ref_or_crashing(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    surface: RecordingSurface,
    listener: tuple[str, list[bytes]],
    ref: str,
) -> None:
    # The model's call leaves `b` out, so checking it never reaches the "$ref"; an
    # approver who fills `b` in the edit form gets their edit checked the same way:
    # nothing fetched from the URL, no loop without end; the form says what is wrong.
    url, requests = listener
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"$ref": url if ref == "url" else ref}},
    }
    transport = command(RAW, "--record", record, "--input-schema", json.dumps(schema))
    cfg = config(tmp_path / "signoff.toml", transport, no_approval="[]")
    engine = await open_signoff(cfg)
    await ask(engine, 'call ops__get_x {"a": "x"}', "1700000000.000100")
    (card,) = surface.cards
    valid, problems = engine.check_edit(card.id, values={"a": "x", "b": "5"})
    assert requests == [], f"signoff fetched the schema's $ref: {requests[0][:60]!r}"
    assert valid == {} and problems, problems
    with pytest.raises(ValueError):
        await engine.edit(
            card.id, user="U0BOB", arguments={"a": "x", "b": 5}, base_sha256=card.args_sha256
        )
    assert requests == []
    assert records(record) == []


async def list_events(tmp_path: Path, record: Path) -> str:
    """One call of the ops server's ``list_events`` (a long result), as ``call_1``."""
    spec = McpServerSpec(command=tuple(json.loads(stdio_command(record))), timeout="10s")
    server = McpServer("ops", spec)
    await server.start()
    try:
        tool = server.get("ops__list_events")
        assert tool is not None
        context = ToolContext(
            home=tmp_path,
            session_id="sess_000000000001",
            workspace_path=tmp_path / "workspace",
            thread=THREAD,
            requester="U0ALICE",
            call_id="call_1",
            tool_version=tool.version,
        )
        return await tool.call({"namespace": "prod"}, context)
    finally:
        await server.aclose()


async def test_a_long_result_that_cannot_be_kept_is_still_the_calls_result(
    tmp_path: Path, record: Path
) -> None:
    # The call ran; keeping its whole result in the workspace then fails (here a command
    # left a folder by the kept file's name; a full disk does the same). That is no reason
    # to report "error" — the model would read "it failed" and may run it again.
    (tmp_path / "workspace" / "tool-output" / "ops__list_events-call_1.txt").mkdir(parents=True)
    text = await list_events(tmp_path, record)
    assert text.startswith("event 0: pod api-0 pulled image"), text[:100]
    assert "could not be kept" in text, text[-300:]
    assert len(records(record, "list_events")) == 1


@pytest.mark.parametrize("planted", ["file", "folder", "hard", "not-a-folder"])
async def test_a_link_a_command_left_in_the_workspace_does_not_redirect_a_kept_result(
    tmp_path: Path, record: Path, planted: str
) -> None:
    # A command runs in the workspace and may leave links there (a tarball or a git
    # repository a model chose holds any). An MCP tool's long result was written by path,
    # through a link at tool-output/<name> or at tool-output itself: signoff rewrote a file
    # outside the workspace (a record of the home) with what the server answered.
    victim = await plant_link(tmp_path, planted, "ops__list_events-call_1.txt")
    outside = victim.parent
    text = await list_events(tmp_path, record)
    assert "the whole output is in workspace/tool-output/ops__list_events-call_1.txt" in text
    assert victim.read_text() == "a record signoff keeps\n"
    assert sorted(p.name for p in outside.iterdir()) == [victim.name]
    kept = tmp_path / "workspace" / "tool-output" / victim.name
    assert not kept.is_symlink() and kept.read_text().count("\n") == 1999


async def test_the_operators_log_does_not_quote_an_http_servers_url_on_every_request(
    http_ops: HttpOpsServer,
) -> None:
    # Hosted MCP servers often carry a key in the URL itself. The HTTP library logs
    # every request with its URL at INFO: one line per health check and call, secret
    # included. signoff's log keeps it at WARNING, as it does Slack's libraries.
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    setup_logging(format="json", level="INFO", stream=stream)
    try:
        spec = McpServerSpec(url=http_ops.url + "?key=SECRETKEY0123", timeout="10s")
        server = McpServer("ops", spec)
        await server.start()
        try:
            assert server.status() == "MCP server ops is up"
            await server.call("get_pods", {"namespace": "prod"}, approval_id="")
        finally:
            await server.aclose()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert "SECRETKEY0123" not in stream.getvalue()


async def test_a_tool_listed_twice_is_not_offered(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Two tools of one name, with two schemas and two descriptions: which one the server
    # runs is its guess. Signoff would check the call (and show the approver) one of them.
    transport = command(RAW, "--record", record, "--twice")
    engine = await open_signoff(config(tmp_path / "signoff.toml", transport))
    assert engine.rt.registry.get("ops__get_x") is None
    assert "ops__get_x" not in engine.rt.registry.names()
    assert "listed twice" in caplog.text
    await ask(engine, "call ops__get_x", "1700000000.000100")
    status, content = final(home, "ops__get_x")
    assert status == "error" and "unknown tool" in content
    assert records(record) == []


async def test_a_server_whose_first_words_are_not_utf8_is_down_with_that_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A banner printed in Latin-1 ("Démarrage") before the handshake: the SDK's reader
    # fails on it. The reason is that, not "no answer in time"; and the failure is not
    # left for asyncio to log as "Future exception was never retrieved".
    script = (
        "import sys, time; sys.stdout.buffer.write(b'D\\xe9marrage\\n'); sys.stdout.flush(); "
        "time.sleep(60)"
    )
    spec = McpServerSpec(command=(sys.executable, "-c", script), timeout="1s")
    with (tmp_path / "stderr.log").open("w") as errlog, pytest.raises(ServerDown) as down:
        await McpConnection.open("ops", spec, errlog=errlog)
    assert "utf-8" in str(down.value).lower(), str(down.value)
    gc.collect()
    assert "never retrieved" not in caplog.text


async def test_a_tool_whose_schema_is_huge_is_not_offered(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # It would go with every model request of every thread: each would fail, or cost a
    # fortune. (About 90 KiB: Linux caps one argument at 128 KiB.)
    wide = {f"p{n}": {"type": "string", "description": "x" * 60} for n in range(1000)}
    schema = json.dumps({"type": "object", "properties": wide})
    transport = command(RAW, "--record", record, "--input-schema", schema)
    engine = await open_signoff(config(tmp_path / "signoff.toml", transport))
    assert engine.rt.registry.get("ops__get_x") is None
    assert "ops__get_x" not in engine.rt.registry.names()
    assert "its input schema is 9" in caplog.text and "over 64 KiB" in caplog.text


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "nonsense"}}},
        {"type": "object", "properties": {"a": {"minLength": "five"}}},
    ],
)
async def test_a_tool_whose_schema_is_not_json_schema_is_not_offered(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    caplog: pytest.LogCaptureFixture,
    schema: dict[str, object],
) -> None:
    # The SDK takes any object with "type": "object"; the model APIs check the whole
    # schema of every tool of a request and refuse the request (Anthropic: "JSON schema
    # is invalid"; OpenAI: "Invalid schema for function"), so one such tool offered
    # would fail every model request of every thread, whatever it asked for.
    transport = command(RAW, "--record", record, "--input-schema", json.dumps(schema))
    engine = await open_signoff(config(tmp_path / "signoff.toml", transport))
    assert "ops__get_x" not in engine.rt.registry.names()
    assert engine.rt.registry.get("ops__get_x") is None
    assert "tool 'get_x' skipped: its input schema is not valid JSON schema" in caplog.text


async def test_a_tool_description_is_cut_to_what_a_model_is_given(
    open_signoff: SignoffFactory, tmp_path: Path, record: Path
) -> None:
    text = tmp_path / "description.txt"
    text.write_text("Read x. " + "Very long instructions. " * 1000)
    transport = command(RAW, "--record", record, "--description-file", text)
    engine = await open_signoff(config(tmp_path / "signoff.toml", transport))
    [spec] = [s for s in engine.rt.registry.specs() if s.name == "ops__get_x"]
    assert len(spec.description) == DESCRIPTION_LIMIT
    assert spec.description.startswith("Read x. Very long") and spec.description.endswith("…")


async def test_a_server_chattering_on_stdout_is_said_once_not_a_traceback_a_line(
    record: Path,
) -> None:
    # Debug output on stdout: the SDK logs an ERROR with a traceback for every line.
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    setup_logging(format="text", level="INFO", stream=stream)
    try:
        spec = McpServerSpec(command=[sys.executable, str(RAW), "--record", str(record),
                                      "--chatter", "20"], timeout="10s")  # fmt: skip
        server = McpServer("ops", spec)
        await server.start()
        try:
            assert server.status() == "MCP server ops is up"
            result = await server.call("get_x", {"a": "1"}, approval_id="")
        finally:
            await server.aclose()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert not result.is_error
    said = [line for line in stream.getvalue().splitlines() if "not JSON-RPC" in line]
    # 20 lines before each of its answers (at least three): the 1st and the 10th are said.
    assert [line.split(" WARNING ")[1] for line in said][:2] == [
        "mcp.client.stdio: an MCP stdio server wrote a line to stdout that is not JSON-RPC, "
        f"skipped ({n} so far; servers must log to stderr)"
        for n in (1, 10)
    ]
    assert len(said) <= 3 and "Traceback" not in stream.getvalue()


async def test_a_listing_in_pages_is_read_whole_and_one_without_end_is_a_server_down(
    tmp_path: Path, record: Path
) -> None:
    # Pages were followed up to a cap and what had come by then was taken as the listing:
    # a server whose cursor never ends seemed up with whatever tools the pages held (each
    # repeated: none), so an approved call of its tools was "no longer registered", spent.
    paged = McpServer("ops", McpServerSpec(
        command=(sys.executable, str(ROGUE), "--record", str(record), "--pages", "2"),
        timeout="10s"))  # fmt: skip
    assert await paged.ensure() is None
    assert [t.name for t in paged.tools()] == ["ops__get_status", "ops__restart_deployment"]
    await paged.aclose()
    endless = McpServer("ops", McpServerSpec(
        command=(sys.executable, str(ROGUE), "--record", str(record), "--pages", "0"),
        timeout="10s"))  # fmt: skip
    try:
        reason = await endless.ensure()
    finally:
        await endless.aclose()
    assert reason is not None and "its tool listing did not end after 100 pages" in reason
    assert not endless.listing_known()


async def test_a_key_the_server_quotes_as_it_refuses_it_is_masked_in_why_it_is_down(
    tmp_path: Path, record: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # "invalid key: Bearer sk-…": the reason a server is down is logged, is the result of
    # a call (nothing was sent) and is told in the thread of an approved call deferred on
    # it. The header is a secret wherever it comes back from.
    key = "sk-live-0123456789abcdef"
    with rogue_http(tmp_path, record, "502", "--refuse-key") as url:
        spec = McpServerSpec(url=url, headers={"Authorization": f"Bearer {key}"}, timeout="10s")
        server = McpServer("ops", spec)
        await server.start()
        try:
            status = server.status()
        finally:
            await server.aclose()
    assert "invalid key: ***" in status  # the whole header value
    assert key not in status + caplog.text
