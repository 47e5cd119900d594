"""An HTTP MCP server whose host name the resolver never answers for: ``signoff doctor``
says the name did not resolve in time, and exits within the server's ``timeout``.

Before, it said "no answer in time" (as for a server that took the connection and was
slow: the operator looked at the server, which was never asked), and the process then
waited for the resolver's own give-up (here 30 s) before it exited: the lookup ran in
asyncio's executor, whose threads are joined at exit.

The resolver is real: ``signoff doctor`` runs in its own user, mount and network
namespaces (``unshare -rmn``), where /etc/resolv.conf names a DNS server on loopback that
reads nothing. Skipped where namespaces cannot be made.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mcp_fixture_kit import server_table, write_config

SIGNOFF = str(Path(sys.executable).with_name("signoff"))
# Listens on loopback port 53 and never answers; the shell runs signoff once it is bound.
SILENT_DNS = (
    "import socket, sys, time\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', 53))\n"
    "print('bound', flush=True); time.sleep(600)\n"
)
SCRIPT = """set -e
ip link set lo up
mount --bind "$RESOLV" /etc/resolv.conf
"$PY" -c "$SILENT" > "$BOUND" 2> /dev/null &
dns=$!
while ! [ -s "$BOUND" ]; do sleep 0.05; done
rc=0
"$SIGNOFF" doctor || rc=$?
kill "$dns"
exit "$rc"
"""


def _namespaces() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rmn", "true"], capture_output=True, timeout=10, check=False
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _namespaces(), reason="user namespaces are not available here")
def test_doctor_says_a_host_that_never_resolves_and_does_not_wait_for_the_resolver(
    tmp_path: Path,
) -> None:
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\noptions timeout:30 attempts:1\n")
    config = write_config(
        tmp_path / "signoff.toml",
        server_table('url = "http://mcp.ops.invalid:8080/mcp"', timeout="2s"),
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if "proxy" not in k.lower() and not k.startswith(("SIGNOFF_", "SLACK_"))
    }
    env.update(
        SIGNOFF_HOME=str(tmp_path / "home"),
        SIGNOFF_CONFIG=str(config),
        RESOLV=str(resolv),
        PY=sys.executable,
        SILENT=SILENT_DNS,
        BOUND=str(tmp_path / "bound"),
        SIGNOFF=SIGNOFF,
    )
    started = time.monotonic()
    done = subprocess.run(
        ["unshare", "-rmn", "sh", "-c", SCRIPT],
        env=env, capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    took = time.monotonic() - started
    (line,) = [ln for ln in done.stdout.splitlines() if "MCP server ops" in ln]
    assert (
        line
        == "problem: MCP server ops is down: its host name mcp.ops.invalid did not resolve within 2s"
    ), done.stdout + done.stderr
    assert done.returncode == 1 and done.stderr == "", done.stderr
    assert took < 20, f"doctor took {took:.1f}s: it waited for the resolver"
