"""``signoff doctor`` starts each MCP server of SIGNOFF_CONFIG as ``signoff run`` would and
says whether it is up and what it offers: a real server built with the ``mcp`` SDK, and one
whose program does not exist, in a subprocess as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mcp_fixture_kit import server_table, stdio_command, toml_str, write_config

SIGNOFF = str(Path(sys.executable).with_name("signoff"))


def _doctor(tmp_path: Path, config: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if "proxy" not in k.lower() and not k.startswith(("SIGNOFF_", "SLACK_"))
    }
    env.update(SIGNOFF_HOME=str(tmp_path / "home"), SIGNOFF_CONFIG=str(config))
    return subprocess.run(
        [SIGNOFF, "doctor"], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_doctor_says_an_mcp_server_is_up_and_what_it_offers(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "signoff.toml",
        server_table(f"command = {stdio_command(tmp_path / 'calls.jsonl')}"),
    )
    done = _doctor(tmp_path, config)
    assert done.returncode == 0, done.stdout + done.stderr
    # Seven tools, delete_* excluded; get_* and list_* need no approval.
    assert (
        "ok: MCP server ops is up: 6 tools offered, 2 of them without an approval (no_approval)\n"
    ) in done.stdout
    assert not (tmp_path / "home").exists()  # a check makes no home


def test_doctor_says_why_an_mcp_server_is_down(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-server"
    config = write_config(
        tmp_path / "signoff.toml", server_table(f"command = [{toml_str(missing)}]")
    )
    done = _doctor(tmp_path, config)
    assert done.returncode == 1
    (line,) = [ln for ln in done.stdout.splitlines() if "MCP server ops" in ln]
    assert line.startswith("problem: MCP server ops is down: ")
    assert "no such file" in line
    assert done.stderr == ""  # said once, on its line, not again as a warning


def test_doctor_names_a_host_that_does_not_resolve(tmp_path: Path) -> None:
    # A name under the reserved .invalid TLD (RFC 6761): no resolver answers it.
    url = '"http://mcp.ops.invalid:8080/mcp"'
    config = write_config(tmp_path / "signoff.toml", server_table(f"url = {url}"))
    done = _doctor(tmp_path, config)
    assert done.returncode == 1  # a check found a problem: not a bad config (2)
    (line,) = [ln for ln in done.stdout.splitlines() if "MCP server ops" in ln]
    assert line.startswith(
        "problem: MCP server ops is down: its host name mcp.ops.invalid does not resolve ("
    ), line
    assert done.stderr == ""
