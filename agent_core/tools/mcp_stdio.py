"""The stdio transport to an MCP server: the SDK's ``stdio_client``, with a bound on a line.

The SDK's reader joins each piece of the server's stdout to what it holds of the line so
far and splits the whole again, so a server that writes one line without end (a bug, a
dump of a log) takes memory without bound and, copying all it holds for every 64 KiB,
the event loop's time with it: every thread signoff serves waits. Here a line is held as
its pieces, each byte is looked at once, and a line longer than ``LINE_LIMIT`` ends the
connection, as a server that exits does: a call it was answering is uncertain (and says
why: ``Ending``), and the server is started again like one that died. Everything else is the SDK's own, called as
``stdio_client`` calls it: the server in a process group of its own, stdin closed on
shutdown, then SIGTERM to the group, then SIGKILL; a line that is not JSON-RPC handed on
as an error the session logs (``bot.logs.StdoutChatter`` keeps that quiet).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

import anyio
import anyio.lowlevel
from anyio.abc import ByteReceiveStream
from mcp.client._transport import TransportStreams
from mcp.client.stdio import (
    _WRITER_FLUSH_TIMEOUT,
    StdioServerParameters,
    _create_platform_compatible_process,
    _drain_stdout,
    _get_executable_command,
    _parse_line,
    _stop_server_process,
    get_default_environment,
)
from mcp.shared.message import SessionMessage

from .mcp_open_requests import OpenRequests

__all__ = ["LINE_LIMIT", "Ending", "stdio_transport"]

log = logging.getLogger("signoff.mcp")

# A listing of many tools, or a long result, fits many times over; no model reads more.
LINE_LIMIT = 32 << 20


class LineTooLong(Exception):
    pass


class Ending:
    """Whether signoff closed the connection over a line too long: the session tells the
    calls it ends only "Connection closed", as for a server that exited."""

    def __init__(self) -> None:
        self.line_too_long = False


async def lines(stdout: ByteReceiveStream, *, limit: int) -> AsyncIterator[bytes]:
    """Each line ``stdout`` brings, without its newline; LineTooLong past ``limit`` bytes."""
    held: list[bytes] = []
    size = 0
    async for chunk in stdout:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            if size + end - start > limit:
                raise LineTooLong
            held.append(chunk[start:end])
            yield b"".join(held)
            held, size = [], 0
            start = end + 1
        if start < len(chunk):
            size += len(chunk) - start
            if size > limit:
                raise LineTooLong
            held.append(chunk[start:])


@asynccontextmanager
async def stdio_transport(
    server: StdioServerParameters,
    *,
    name: str,
    errlog: TextIO,
    limit: int = LINE_LIMIT,
    ending: Ending | None = None,
) -> AsyncIterator[TransportStreams]:
    process = await _create_platform_compatible_process(
        command=await _get_executable_command(server.command),
        args=server.args,
        env=get_default_environment() | (server.env or {}),
        errlog=errlog,
        cwd=server.cwd,
    )
    # No awaits from here until the task group is entered: a cancel in the gap would leave
    # the server running (as in the SDK).
    read_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, write_reader = anyio.create_memory_object_stream[SessionMessage](0)
    shutting_down = False
    writer_done = anyio.Event()
    # Past the bound, the server's stdout is not read until it reads its stdin.
    pending = OpenRequests()

    async def stdout_reader() -> None:
        assert process.stdout is not None
        too_long = False
        try:
            async with read_writer:
                try:
                    async for line in lines(process.stdout, limit=limit):
                        text = line.decode(server.encoding, server.encoding_error_handler)
                        item = _parse_line(text)
                        pending.received(item)
                        try:
                            await read_writer.send(item)
                        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                            return
                        await pending.room()
                except LineTooLong:
                    too_long = True
                    if ending is not None:  # before the session sees the stream end
                        ending.line_too_long = True
                    log.warning(
                        "MCP server %s wrote a line over %d MiB on stdout; the connection is "
                        "closed, and the server is started again",
                        name,
                        limit >> 20,
                    )
                finally:
                    # Not one that writes without end: draining it would never stop. It
                    # waits on a full pipe until shutdown kills it.
                    if not too_long:
                        await _drain_stdout(process)
        except anyio.ClosedResourceError:
            pass  # our own shutdown closed stdout under the read
        except (anyio.BrokenResourceError, ConnectionError):
            if not shutting_down:
                log.warning("MCP server %s: reading its stdout failed", name)

    async def stdin_writer() -> None:
        assert process.stdin is not None
        try:
            async with write_reader:
                async for message in write_reader:
                    json = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                    data = (json + "\n").encode(server.encoding, server.encoding_error_handler)
                    await process.stdin.send(data)
                    pending.sent(message)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            await read_writer.aclose()  # the session sees the end, not a request hanging
        finally:
            writer_done.set()
            pending.end()  # no answer will come

    async def shutdown() -> None:
        pending.end()  # a reader waiting for answers drains, so the server can exit
        read_stream.close()  # lets the reader drain: a server blocked on stdout can exit
        write_stream.close()
        with anyio.move_on_after(_WRITER_FLUSH_TIMEOUT):
            await writer_done.wait()
        await _stop_server_process(process)
        for stream in (read_stream, write_stream, read_writer, write_reader):
            await stream.aclose()
        await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as tg:
        tg.start_soon(stdout_reader)
        tg.start_soon(stdin_writer)
        try:
            yield read_stream, write_stream
        finally:
            shutting_down = True
            with anyio.CancelScope(shield=True):  # or the server would outlive a cancel
                await shutdown()
            tg.cancel_scope.cancel()
    await anyio.lowlevel.cancel_shielded_checkpoint()
