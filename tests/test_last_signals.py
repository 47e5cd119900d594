"""Once ``run`` has stopped, SIGTERM ends the process with its status, also while an exit
handler registered before runs (a tool module's, the MCP SDK's, a child's join): those
ran with SIGTERM ignored, since the handler that ignores it, registered last, ran first
(``atexit`` runs the last registered first), and one that hung left only SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import atexit, sys, time
import bot.last_signals as last

def cleanup():
    print("cleaning up", flush=True)
    time.sleep(60)

atexit.register(cleanup)  # before the stop, as a tool module's would be
last.exit_on_signal(0)
"""


def test_sigterm_during_an_exit_handler_ends_the_process_with_its_status() -> None:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "cleaning up"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
