"""An HTTP MCP server whose tool listing is over the 32 MiB an answer is read to is down,
said as too large, while the other servers' tools are offered all the same.

Three servers answer tools/list past the limit: the real SDK's (``ops_mcp_server.py
--http --bulky 33``, one 33 MiB answer), and ``flooding_http_server.py --listing`` whose
listing never ends, as a JSON body or as one SSE event (streamed a MiB at a time): signoff
must stop reading at the limit (bounded memory), not wait for an end that never comes.
Beside it, the ops server over stdio must still offer its tools, and ``signoff doctor``
say both.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from mcp_fixture_kit import server_table, stdio_command, wait_for, write_config

if TYPE_CHECKING:
    from conftest import SignoffFactory

HERE = Path(__file__).resolve().parent
SIGNOFF = str(Path(sys.executable).with_name("signoff"))
TOO_LARGE = "MCP server big is down: its tool listing is over 32 MiB, too large to read"


@contextlib.contextmanager
def big_server(tmp_path: Path, kind: str) -> Iterator[str]:
    """A server listing past the limit, as ``kind`` says; yields its URL."""
    port_file = tmp_path / f"port-{time.monotonic_ns()}"
    record = tmp_path / "big.jsonl"
    if kind == "sdk":
        args = [str(HERE / "ops_mcp_server.py"), "--record", str(record), "--bulky", "33"]
        args += ["--http", str(port_file)]
    else:
        args = [str(HERE / "flooding_http_server.py"), "--record", str(record)]
        args += ["--port-file", str(port_file), "--listing", kind]
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    proc = subprocess.Popen(
        [sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(port_file.exists, what="the big server to listen")
        yield f"http://127.0.0.1:{port_file.read_text()}/mcp"
    finally:
        proc.kill()
        proc.wait()


def two_servers(tmp_path: Path, url: str) -> Path:
    ops = server_table(f"command = {stdio_command(tmp_path / 'ops.jsonl')}")
    return write_config(
        tmp_path / "signoff.toml", f'{ops}\n[mcp.servers.big]\nurl = "{url}"\ntimeout = "20s"\n'
    )


def sent_before_hang_up(tmp_path: Path) -> int:
    """What the endless server had sent when signoff hung up."""

    def found() -> int | None:
        path = tmp_path / "big.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        sent = [json.loads(line).get("listing_sent") for line in lines]
        return next((n for n in sent if n is not None), None)

    return int(wait_for(found, timeout=10, what="signoff to hang up on the listing"))


@pytest.mark.parametrize("kind", ["sdk", "endless-json", "endless-sse"])
async def test_a_listing_over_the_limit_is_too_large_and_the_others_are_offered(
    open_signoff: SignoffFactory, logs: io.StringIO, tmp_path: Path, kind: str
) -> None:
    with big_server(tmp_path, kind) as url:
        engine = await open_signoff(two_servers(tmp_path, url))
        offered = {spec.name for spec in engine.tools.specs()}
        (big,) = [s for s in engine.rt.registry.sources() if s.label == "MCP server big"]
        assert f"MCP server big is down: {big.problem()}" == TOO_LARGE
        if kind != "sdk":  # stopped reading at the limit: never 1 GiB (TCP buffers aside)
            assert sent_before_hang_up(tmp_path) < 64 << 20
    assert "ops__get_pods" in offered and "ops__restart_deployment" in offered
    assert not any(name.startswith("big__") for name in offered), offered
    said = logs.getvalue()
    down = [line for line in said.splitlines() if "MCP server big is down" in line]
    assert len(down) == 1 and TOO_LARGE in down[0], said[-3000:]
    assert "Traceback" not in said and "xxxx" not in said, said[-3000:]


def test_doctor_says_the_listing_is_too_large_and_the_other_server_up(tmp_path: Path) -> None:
    with big_server(tmp_path, "endless-json") as url:
        env = {
            k: v
            for k, v in os.environ.items()
            if "proxy" not in k.lower() and not k.startswith(("SIGNOFF_", "SLACK_"))
        }
        env.update(
            SIGNOFF_HOME=str(tmp_path / "home"), SIGNOFF_CONFIG=str(two_servers(tmp_path, url))
        )
        done = subprocess.run(
            [SIGNOFF, "doctor"], env=env, capture_output=True, text=True, timeout=60, check=False
        )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert f"problem: {TOO_LARGE}" in lines, done.stdout
    assert any(ln.startswith("ok: MCP server ops is up: 6 tools offered") for ln in lines), lines
    assert done.stderr == "", done.stderr
