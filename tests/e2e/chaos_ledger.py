"""A gated command tool in the chaos run whose every start is written down.

The simulated fleet applies a change once per approval id (its idempotency key), so a
call run twice left it as it was once: the fleet alone could not show a rerun. This tool
can: a real program (``[commands.ledger]``, argv, no shell) that appends ``start <approval
id>`` to a file of its own, fsynced, waits a little (the bot is killed in that window now
and then) and appends ``end``. Every start is there whatever signoff recorded, so the audit
counts what actually ran: never twice, never without an approval.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

__all__ = ["LEDGER_TOOL", "ledger_config", "ledger_starts"]

LEDGER_TOOL = "ledger"

# Run as ``python -c SCRIPT <note>``: the note is read from argv, never part of the code.
# No braces: in an argv they would be placeholders.
_SCRIPT = """\
import os, sys, time
aid = os.environ.get("SIGNOFF_APPROVAL_ID", "")
def mark(what):
    fd = os.open(os.environ["CHAOS_LEDGER"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, ("%s %s %s\\n" % (what, aid or "-", sys.argv[1])).encode())
    os.fsync(fd)
    os.close(fd)
mark("start")
time.sleep(0.3)
mark("end")
print("noted", sys.argv[1])
"""


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def ledger_config(directory: Path) -> tuple[Path, Path]:
    """(the SIGNOFF_CONFIG file declaring the tool, the ledger it writes)."""
    ledger = directory / "ledger.txt"
    config = directory / "signoff.toml"
    argv = ", ".join(_toml_string(a) for a in (sys.executable, "-c", _SCRIPT, "{note}"))
    config.write_text(
        f"[commands.{LEDGER_TOOL}]\n"
        'description = "Write a note in the chaos ledger"\n'
        f"argv = [{argv}]\n"
        'params.note = { type = "string", pattern = "^n[0-9]{1,6}$" }\n'
        f"env = {{ CHAOS_LEDGER = {_toml_string(os.fspath(ledger))} }}\n"
        'timeout = "30s"\n'
    )
    return config, ledger


def ledger_starts(ledger: Path) -> Counter[str]:
    """How often the tool started, by approval id ("" for a start without one)."""
    starts: Counter[str] = Counter()
    if not ledger.exists():
        return starts
    for line in ledger.read_text().splitlines():
        what, _, rest = line.partition(" ")
        if what == "start":
            aid = rest.split(" ", 1)[0]
            starts["" if aid == "-" else aid] += 1
    return starts
