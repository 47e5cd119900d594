"""`python -m localslack` runs standalone and prints where it listens."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from localslack_testkit import PROXY_VARS
from slack_sdk.web.async_client import AsyncWebClient

import localslack


async def test_module_entry_point_serves_the_web_api() -> None:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "localslack",
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        cwd=Path(localslack.__file__).resolve().parents[1],
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        assert first.startswith("LocalSlack listening on http://127.0.0.1:")
        url = first.split()[-1]
        client = AsyncWebClient(token="xoxb-local-0000-bot-token", base_url=f"{url}/api/")
        assert (await client.auth_test())["user_id"] == "U0SIGNOFF"
    finally:
        proc.terminate()
        await proc.wait()


def test_a_subscription_without_its_scope_exits_2_with_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "localslack", "--scopes", "chat:write", "--events", "message.im"],
        cwd=Path(localslack.__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=30,
        env={k: v for k, v in os.environ.items() if k not in PROXY_VARS},
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "localslack: subscribing to message.im needs the im:history scope"
    ]


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
@pytest.mark.parametrize("host", ["::1", "::"])
async def test_an_ipv6_host_gives_a_url_a_client_can_call(host: str) -> None:
    # http://::1:PORT was given out (no brackets): `signoff dev --host ::1` could not
    # reach its own LocalSlack.
    async with localslack.LocalSlack(localslack.WorkspaceConfig(), host=host, port=0) as slack:
        assert slack.url.startswith("http://[::1]:")
        client = AsyncWebClient(token="xoxb-local-0000-bot-token", base_url=slack.api_url)
        assert (await client.auth_test())["user_id"] == "U0SIGNOFF"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        # An OverflowError or gaierror traceback, or (a timeout of nan or -1) a server
        # whose every interaction timed out at once.
        (["--port", "99999"], "--port"),
        (["--port", "-5"], "--port"),
        (["--ack-timeout", "nan"], "--ack-timeout"),
        (["--ack-timeout", "-1"], "--ack-timeout"),
        (["--host", "nosuch.invalid", "--port", "0"], "cannot listen on nosuch.invalid:0"),
    ],
)
def test_a_bad_port_timeout_or_host_is_one_line(args: list[str], said: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "localslack", *args],
        cwd=Path(localslack.__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=30,
        env={k: v for k, v in os.environ.items() if k not in PROXY_VARS},
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and said in lines[0], done.stderr
