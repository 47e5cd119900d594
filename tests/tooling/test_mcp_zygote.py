"""The kit's stdio MCP server: ``mcp_zygote.py`` forks it, ``mcp_launcher.py`` stands in
for it as signoff's child. Whatever a launcher does, the zygote keeps serving the others."""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from mcp_fixture_kit import LAUNCHER, SERVER, _Zygote, alive, wait_for


@pytest.mark.parametrize("answered", [False, True], ids=["before-its-answer", "answer-unread"])
def test_a_launcher_killed_before_its_answer_leaves_the_zygote_serving(
    tmp_path: Path, answered: bool
) -> None:
    # A launcher signoff killed (SIGTERM or SIGKILL of its group) after it had sent its
    # request but before the zygote answered: the zygote died on the broken pipe, every
    # server it had forked was left running and every launcher said exit 1. Killed once
    # the answer had come but before reading it, its socket closed with the answer unread:
    # the zygote's next read of it raised ECONNRESET and ended the zygote the same way
    # (a loaded CI run: the next launcher's connection was reset).
    zygote = _Zygote()
    path = zygote.path()
    assert zygote.proc is not None
    record = tmp_path / "record"
    argv = [str(SERVER), "--record", str(record)]
    payload = json.dumps({"argv": argv, "env": dict(os.environ), "cwd": str(tmp_path)}).encode()
    read, write = os.pipe()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.connect(path)
        socket.send_fds(dead, [struct.pack("!I", len(payload)) + payload], [read, write, 2])
        if answered:
            assert select.select([dead], [], [], 30)[0], "the zygote never answered"
    os.close(read)
    os.close(write)
    try:
        # A launcher after it: served, and it ends as its server did (stdin closed: exit 0).
        done = subprocess.run(
            [sys.executable, "-S", str(LAUNCHER), path, *argv],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()
        assert zygote.proc.poll() is None
        wait_for(lambda: not any(alive(int(p)) for p in _forked(zygote.proc.pid)),
                 what="the dead launcher's server to be killed")  # fmt: skip
    finally:
        assert zygote.proc.stdin is not None
        zygote.proc.stdin.close()
        zygote.proc.wait(timeout=10)
    assert not Path(path).parent.exists()  # nothing left behind in /tmp


def _forked(parent: int) -> list[str]:
    children = Path(f"/proc/{parent}/task/{parent}/children")
    return children.read_text().split() if children.exists() else []
