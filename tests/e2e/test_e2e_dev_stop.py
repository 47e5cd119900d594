"""``signoff dev`` stopped as a person stops it: Ctrl-C drains like ``signoff run``'s
SIGTERM, and Ctrl-C pressed again cuts that drain short (README: ``run`` and ``dev`` drain
as on SIGTERM). The chat is dev's own LocalSlack, driven through its control API."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import aiohttp
from loopback_ports import free_port
from ops_kit import SIGNOFF, write_slow_tool
from signoff_e2e_kit import BOT_USER, OPS, clean_env, until


def dev(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    """``signoff dev`` with a slow tool; its stdout and stderr in files of ``tmp_path``."""
    tools = tmp_path / "tools"
    env = clean_env(
        SIGNOFF_HOME=str(tmp_path / "home"),
        SIGNOFF_TOOLS=write_slow_tool(tools, "slow_tools_dev"),
        PYTHONPATH=str(tools),
        SIGNOFF_DRAIN_S="120",  # dev gives running turns 10 s of it at most
        SIGNOFF_LOG_FORMAT="json",
    )
    with (tmp_path / "stdout").open("wb") as out, (tmp_path / "stderr").open("wb") as err:
        return subprocess.Popen(
            [SIGNOFF, "dev", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )


async def test_a_second_ctrl_c_cuts_the_drain_of_signoff_dev_short(tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    proc = dev(tmp_path, port)
    try:
        await until(lambda: "(Ctrl-C stops)" in out.read_text(), what="dev to start", timeout=30)
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/_control/messages"
            text = f"<@{BOT_USER}> call slow_check seconds=60"
            body = {"channel": OPS, "user": "U0ALICE", "text": text}
            async with http.post(url, json=body) as response:
                assert response.status == 200, await response.text()
        await until(lambda: (home / "slow-started").exists(), what="the slow tool to start")
        proc.send_signal(signal.SIGINT)
        await until(lambda: "stopping" in out.read_text(), what="the drain to begin")
        proc.send_signal(signal.SIGINT)  # pressed again: do not wait the drain out
        await until(lambda: proc.poll() is not None, what="dev to stop", timeout=30)
        assert proc.returncode == 0, err.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert "drain_cut_short" in err.read_text(), err.read_text()
    assert not (home / "slow-finished").exists()
    assert "stopped" in out.read_text().splitlines()[-1]
