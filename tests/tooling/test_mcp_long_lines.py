"""A stdio MCP server that writes a line without end (or one too long to hold) costs
signoff at most ``LINE_LIMIT`` of memory and no stalled loop: the connection is closed as
if the server had exited, the call it was answering is uncertain (its answer too large),
and the next call starts the server again. (The SDK's reader held all of it, copying it for every 64 KiB.)
Over HTTP, a JSON answer is read up to ``BODY_LIMIT``, and never unpacked."""

from __future__ import annotations

import io
import logging
import random
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import pytest
from anyio.abc import ByteReceiveStream
from mcp_fixture_kit import records, toml_str
from test_mcp_adversarial import RAW, ask, command, config, final, rogue_http

from agent_core.tools.mcp_stdio import LineTooLong, lines
from sessions import Home

if TYPE_CHECKING:
    from conftest import SignoffFactory


@pytest.mark.parametrize("result", ["endless", "huge"])
async def test_a_line_too_long_closes_the_connection_and_the_next_call_runs(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    caplog: pytest.LogCaptureFixture,
    result: str,
) -> None:
    transport = command(RAW, "--record", record, "--result", result, "--once", tmp_path / "once")
    engine = await open_signoff(config(tmp_path / "signoff.toml", transport))
    caplog.set_level(logging.WARNING, logger="signoff.mcp")
    await ask(engine, 'call ops__get_x {"a": "b"}', "1700000000.000100")
    status, content = final(home, "ops__get_x")
    # At once, as for a server that exited: not after the call's timeout (the old reader
    # held the whole line, waiting for its end). Saying why, as over HTTP: not as if the
    # server had stopped.
    assert status == "uncertain", content
    assert content.startswith(
        "MCP server ops sent an answer over 32 MiB, too large to read; the call may or may "
        "not have taken effect"
    ), content
    said = [r.getMessage() for r in caplog.records if "over 32 MiB" in r.getMessage()]
    assert len(said) == 1 and "MCP server ops" in said[0], said
    await ask(engine, 'call ops__get_x {"a": "c"}', "1700000000.000200")
    assert final(home, "ops__get_x") == ("ok", "done")
    assert len(records(record)) == 2
    assert list(engine.errors) == []


class Pieces(ByteReceiveStream):
    """A stdout that brings ``data`` in the pieces given."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if not self.pieces:
            raise anyio.EndOfStream
        return self.pieces.pop(0)

    async def aclose(self) -> None:
        self.pieces = []


async def read_lines(pieces: list[bytes], limit: int) -> list[bytes]:
    return [line async for line in lines(Pieces(pieces), limit=limit)]


async def test_lines_come_whole_however_stdout_is_cut() -> None:
    rng = random.Random(7)
    for _ in range(200):
        want = [bytes(rng.choices(b"ab{}", k=rng.randint(0, 30))) for _ in range(rng.randint(0, 6))]
        data = b"".join(line + b"\n" for line in want) + b"tail-without-newline"
        cuts = sorted(rng.sample(range(1, len(data)), k=min(len(data) - 1, rng.randint(0, 8))))
        pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        assert await read_lines(pieces, limit=30) == want


@pytest.mark.parametrize(
    "pieces", [[b"x" * 11], [b"x" * 6, b"x" * 5], [b"ok\n" + b"x" * 11 + b"\n"]]
)
async def test_a_line_over_the_limit_is_refused_as_soon_as_it_is(pieces: list[bytes]) -> None:
    with pytest.raises(LineTooLong):
        await read_lines(pieces, limit=10)
    assert await read_lines([b"x" * 10 + b"\n"], limit=10) == [b"x" * 10]


@pytest.mark.parametrize("answer", ["huge", "endless", "gzip"])
async def test_an_http_answer_too_long_to_hold_is_a_call_that_broke_mid_answer(
    open_signoff: SignoffFactory,
    tmp_path: Path,
    record: Path,
    home: Home,
    caplog: pytest.LogCaptureFixture,
    logs: io.StringIO,
    answer: str,
) -> None:
    # The SDK read a JSON answer whole, and unpacked a compressed one: 40 MiB, without
    # end, or 256 MiB from 256 KiB. Read up to 32 MiB, never unpacked: the call ran and
    # its answer broke off, so it is uncertain, and the log says why.
    with rogue_http(tmp_path, record, answer) as url:
        engine = await open_signoff(config(tmp_path / "signoff.toml", f"url = {toml_str(url)}"))
        caplog.set_level(logging.WARNING, logger="signoff.mcp")
        await ask(engine, "call ops__get_status", "1700000000.000100")
        assert len(records(record, "get_status")) == 1  # it ran
        status, content = final(home, "ops__get_status")
        # At once: not after the call's timeout, nor parsed; saying why.
        why = {
            "gzip": "something unreadable (Failed to parse JSON response: a gzip answer",
            "huge": "sent an answer over 32 MiB, too large to read",
        }.get(answer, "sent an answer over 32 MiB, too large to read")
        assert status == "uncertain" and why in content, content
        said = [
            r.getMessage() for r in caplog.records if "the answer is not read" in r.getMessage()
        ]
        assert len(said) == 1 and "MCP server ops sent" in said[0], said
        # Said once: not again by the SDK, with a traceback, as an answer it failed to parse.
        assert "Traceback" not in logs.getvalue() and "Error parsing" not in logs.getvalue()
        assert list(engine.errors) == []
