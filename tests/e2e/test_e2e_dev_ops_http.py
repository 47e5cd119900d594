"""``signoff dev`` serves operators' HTTP on ``SIGNOFF_HTTP`` as ``signoff run`` does
(issue 11: "``signoff run`` and ``signoff dev`` serve HTTP"): /healthz, /readyz and
/metrics, parsed with prometheus_client's own parser, moving with what dev's bot does."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
from pathlib import Path

import aiohttp
from ops_kit import SIGNOFF
from prometheus_client.parser import text_string_to_metric_families
from signoff_e2e_kit import BOT_USER, OPS, clean_env, until

# Every family issue 11 names, as the parser names them (a counter without its _total).
FAMILIES = {
    "signoff_events": "counter",
    "signoff_ack_seconds": "histogram",
    "signoff_sessions": "gauge",
    "signoff_approvals": "counter",
    "signoff_approvals_pending": "gauge",
    "signoff_approval_wait_seconds": "histogram",
    "signoff_tool_calls": "counter",
    "signoff_model_calls": "counter",
    "signoff_model_tokens": "counter",
    "signoff_model_cost_usd": "counter",
    "signoff_slack_api_calls": "counter",
    "signoff_socket_connected": "gauge",
    "signoff_outbox_depth": "gauge",
}
ANNOUNCED = re.compile(r"health and metrics: (http://\S+)/readyz, ")
CHAT = re.compile(r"open (http://\S+)/ \(Ctrl-C stops\)")


async def fetch(http: aiohttp.ClientSession, url: str) -> tuple[int, str, str]:
    async with http.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
        return response.status, response.content_type, await response.text()


def stored_mentions(text: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "signoff_events_total"
        and s.labels == {"type": "app_mention", "outcome": "stored"}
    )


def start_dev(tmp_path: Path) -> subprocess.Popen[bytes]:
    """``signoff dev`` with both its ports ephemeral (none taken meanwhile); its stdout and
    stderr in files of ``tmp_path``."""
    env = clean_env(SIGNOFF_HOME=str(tmp_path / "home"))
    env["SIGNOFF_HTTP"] = "127.0.0.1:0"  # what this test is about (clean_env's default too)
    with (tmp_path / "stdout").open("wb") as out, (tmp_path / "stderr").open("wb") as err:
        return subprocess.Popen(
            [SIGNOFF, "dev", "--port", "0"],
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )


async def test_signoff_dev_serves_healthz_readyz_and_metrics_on_signoff_http(
    tmp_path: Path,
) -> None:
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    proc = start_dev(tmp_path)
    try:
        await until(lambda: CHAT.search(out.read_text()), what="dev to start", timeout=30)
        announced = ANNOUNCED.search(out.read_text())
        assert announced is not None, out.read_text()
        ops, chat = announced.group(1), CHAT.search(out.read_text()).group(1)  # type: ignore[union-attr]
        async with aiohttp.ClientSession() as http:
            assert (await fetch(http, ops + "/healthz"))[0] == 200
            status, kind, body = await fetch(http, ops + "/readyz")
            assert (status, kind) == (200, "application/json"), body
            status, kind, text = await fetch(http, ops + "/metrics")
            assert (status, kind) == (200, "text/plain"), text
            found = {f.name: f.type for f in text_string_to_metric_families(text)}
            assert {name: found.get(name) for name in FAMILIES} == FAMILIES
            assert stored_mentions(text) == 0

            # They are dev's own bot's metrics: a mention in dev's chat moves them.
            message = {"channel": OPS, "user": "U0ALICE", "text": f"<@{BOT_USER}> help"}
            async with http.post(chat + "/_control/messages", json=message) as response:
                assert response.status == 200, await response.text()

            deadline = asyncio.get_running_loop().time() + 10
            while stored_mentions((await fetch(http, ops + "/metrics"))[2]) != 1:
                assert asyncio.get_running_loop().time() < deadline, "the mention never counted"
                await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        await until(lambda: proc.poll() is not None, what="dev to stop", timeout=30)
        assert proc.returncode == 0, err.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
