"""The test MCP server (``ops_mcp_server.py``) as the tests start it, and its record file.

A uniquely named plain module: test files in other directories import it after putting
this directory on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from agent_core.tools.mcp_spec import McpServerSpec

SERVER = Path(__file__).with_name("ops_mcp_server.py")
LAUNCHER = Path(__file__).with_name("mcp_launcher.py")
ZYGOTE = Path(__file__).with_name("mcp_zygote.py")
GATED_CARD_TOOL = "ops__restart_deployment"


def toml_str(value: str | Path) -> str:
    return json.dumps(str(value))  # a TOML basic string


class _Zygote:
    """This test process's ``mcp_zygote.py`` (started at the first stdio command; it ends
    with this process, its stdin closing)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.socket = ""

    def path(self) -> str:
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self.socket = os.path.join(tempfile.mkdtemp(prefix="mcpz-"), "socket")
                env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
                self.proc = subprocess.Popen(
                    [sys.executable, str(ZYGOTE), self.socket],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                )  # fmt: skip
                assert self.proc.stdout is not None
                if self.proc.stdout.readline() != b"ready\n":
                    raise RuntimeError("mcp_zygote.py did not start")
            return self.socket


_ZYGOTE = _Zygote()


def stdio_command(
    record: Path,
    *,
    schema: str = "v1",
    down_if: Path | None = None,
    probes: int = 0,
    asking: bool = False,
    busy: bool = False,
    coded: bool = False,
) -> str:
    """The ops server over stdio: ``mcp_launcher.py``, whose server ``mcp_zygote.py`` forks
    (the SDK imported once per test process, not at every start)."""
    parts = [sys.executable, "-S", str(LAUNCHER), _ZYGOTE.path()]
    parts += [str(SERVER), "--record", str(record), "--schema", schema]
    if down_if is not None:
        parts += ["--down-if", str(down_if)]
    if probes:
        parts += ["--probes", str(probes)]
    if asking:
        parts += ["--asking"]
    if busy:
        parts += ["--busy"]
    if coded:
        parts += ["--coded"]
    return "[" + ", ".join(toml_str(p) for p in parts) + "]"


def wrapped_spec(
    tmp_path: Path, record: Path, *, first: str, timeout: str = "10s"
) -> McpServerSpec:
    """The ops server over stdio, doing ``first`` (Python, with os, sys and time) before
    it starts each time."""
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(
        f"import os, sys, time\n{first}\n"
        "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
    )
    command = [sys.executable, str(wrapper), *json.loads(stdio_command(record))[1:]]
    return McpServerSpec(command=tuple(command), timeout=timeout)


def noisy_spec(tmp_path: Path, record: Path) -> McpServerSpec:
    """The ops server over stdio, writing 160,000 bytes to stderr each time it starts."""
    chatty = "sys.stderr.write('warning: chatty\\n' * 10_000); sys.stderr.flush()"
    return wrapped_spec(tmp_path, record, first=chatty)


def server_table(transport: str, *, timeout: str = "10s") -> str:
    """``[mcp.servers.ops]`` with the tests' filters (``transport`` is a command or url line),
    and a policy under which requests wait a week."""
    return (
        '[policy.default]\nexpires_after = "7d"\n\n'
        "[mcp.servers.ops]\n"
        f"{transport}\n"
        'exclude = ["delete_*"]\n'
        'no_approval = ["get_*", "list_*"]\n'
        f'timeout = "{timeout}"\n'
    )


def write_config(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def records(path: Path, tool: str | None = None) -> list[dict[str, Any]]:
    """Every call the server received (over all its restarts), oldest first."""
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in lines if tool is None or r["tool"] == tool]


def wait_for(condition: Any, *, timeout: float = 20, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class HttpOpsServer:
    """The ops server on streamable HTTP in its own process, restartable on the same port."""

    def __init__(
        self,
        record: Path,
        workdir: Path,
        *,
        schema: str = "v1",
        probes: int = 0,
        asking: bool = False,
        busy: bool = False,
        coded: bool = False,
    ) -> None:
        self.record = record
        self.workdir = workdir
        self.schema = schema
        self.probes = probes
        self.asking = asking
        self.busy = busy
        self.coded = coded
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self, *, schema: str | None = None) -> None:
        port_file = self.workdir / f"port-{time.monotonic_ns()}"
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER), "--record", str(self.record), "--http", str(port_file),
             "--port", str(self.port), "--schema", schema or self.schema,
             "--probes", str(self.probes), *(["--asking"] if self.asking else []),
             *(["--busy"] if self.busy else []), *(["--coded"] if self.coded else [])],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(port_file.exists, what="the HTTP MCP server to listen")
        self.port = int(port_file.read_text())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self, *, schema: str | None = None) -> None:
        self.stop()
        self.start(schema=schema)
