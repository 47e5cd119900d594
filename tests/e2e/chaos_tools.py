"""The real gated tools of the chaos run, each writing down every start.

The simulated fleet applies a change once per approval id (its idempotency key), so a
call run twice left it as it was once: the fleet alone could not show a rerun. These can:

- ``ledger``, a command tool (``[commands.ledger]``, argv, no shell): a program that
  appends ``start <approval id> <note> <wall time>`` to a file of its own, fsynced, waits a little (the bot is
  killed in that window now and then) and appends ``end``;
- ``ops__restart_deployment``, from the tests' MCP server (``tests/tooling/
  ops_mcp_server.py``, stdio, started by each bot), which records every call it receives
  with the approval id signoff sent in the request's ``_meta`` before it acts.

Every start is there whatever signoff recorded, so the audit counts what actually ran:
never twice, never without an approval.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tooling"))

from mcp_fixture_kit import GATED_CARD_TOOL, stdio_command, toml_str

__all__ = ["LEDGER_TOOL", "MCP_TOOL", "ToolEffects", "tools_config"]

LEDGER_TOOL = "ledger"
MCP_TOOL = GATED_CARD_TOOL

# Run as ``python -c SCRIPT <note>``: the note is read from argv, never part of the code.
# No braces: in an argv they would be placeholders.
_SCRIPT = """\
import os, sys, time
aid = os.environ.get("SIGNOFF_APPROVAL_ID", "")
def mark(what):
    fd = os.open(os.environ["CHAOS_LEDGER"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, ("%s %s %s %f\\n" % (what, aid or "-", sys.argv[1], time.time())).encode())
    os.fsync(fd)
    os.close(fd)
mark("start")
time.sleep(0.3)
mark("end")
print("noted", sys.argv[1])
"""


@dataclass(frozen=True)
class ToolEffects:
    """Where the tools write down their starts."""

    ledger: Path
    mcp_record: Path

    def starts(self) -> Counter[str]:
        """How often a gated tool started, by approval id ("" for a start without one)."""
        starts: Counter[str] = Counter()
        if self.ledger.exists():
            for line in self.ledger.read_text().splitlines():
                what, _, rest = line.partition(" ")
                if what == "start":
                    aid = rest.split(" ", 1)[0]
                    starts["" if aid == "-" else aid] += 1
        if self.mcp_record.exists():
            for line in self.mcp_record.read_text().splitlines():
                try:
                    call = json.loads(line)
                except ValueError:
                    continue  # a line a kill cut short: the server had not acted yet
                if call.get("tool") == "restart_deployment":
                    starts[str(call.get("approval_id") or "")] += 1
        return starts


def tools_config(directory: Path) -> tuple[Path, ToolEffects]:
    """(the SIGNOFF_CONFIG file declaring the tools, where they write their starts)."""
    effects = ToolEffects(directory / "ledger.txt", directory / "mcp_calls.jsonl")
    config = directory / "signoff.toml"
    ledger_argv = ", ".join(toml_str(a) for a in (sys.executable, "-c", _SCRIPT, "{note}"))
    config.write_text(
        f"[commands.{LEDGER_TOOL}]\n"
        'description = "Write a note in the chaos ledger"\n'
        f"argv = [{ledger_argv}]\n"
        'params.note = { type = "string", pattern = "^n[0-9]{1,6}$" }\n'
        f"env = {{ CHAOS_LEDGER = {toml_str(effects.ledger)} }}\n"
        'timeout = "30s"\n'
        "\n"
        "[mcp.servers.ops]\n"
        f"command = {stdio_command(effects.mcp_record)}\n"
        'include = ["get_pods", "restart_deployment"]\n'
        'no_approval = ["get_*"]\n'
    )
    return config, effects
