"""Helpers for the browser tests: `signoff dev` as a subprocess, and where things live."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Debian's package; SIGNOFF_CHROMIUM points elsewhere (a path that does not exist skips).
CHROMIUM = Path(os.environ.get("SIGNOFF_CHROMIUM") or "/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_URL = re.compile(r"signoff dev: open (http://\S+?)/? ")


class DevProcess:
    """`signoff dev` as a real process: started, read until it prints its URL, stopped with
    SIGTERM (and it must exit 0)."""

    def __init__(self, home: Path, *args: str, extra_env: dict[str, str] | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env["SIGNOFF_HOME"] = str(home)
        env.pop("SIGNOFF_POLICY", None)
        env.pop("SIGNOFF_CONFIG", None)
        env.update(extra_env or {})
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "dev", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.url = self._wait_for_url()
        self.startup_seconds = time.monotonic() - self.started

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def _wait_for_url(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if match := _URL.search(line):
                return match.group(1)
        self.proc.kill()
        raise AssertionError("signoff dev did not print its URL:\n" + "".join(self.lines))

    def output(self) -> str:
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return "".join(self.lines)
            if line is None:
                return "".join(self.lines)
            self.lines.append(line)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> str:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        time.sleep(0.05)
        out = self.output()
        assert code == 0, f"signoff dev exited with {code}:\n{out}"
        return out


def open_thread(page: Any, message: Any) -> None:
    """Open ``message``'s thread from its reply summary, as a person does. The list
    re-renders as the bot answers (a status line appears above the summary), and a click
    Playwright aimed at where the summary was can land beside it: clicked again, as a
    person would, until the thread pane shows."""
    from playwright.sync_api import expect

    pane = page.locator("#thread")
    for _ in range(3):
        message.locator(".thread-summary").click()
        try:
            expect(pane).to_be_visible(timeout=3_000)
            return
        except AssertionError:
            continue
    expect(pane).to_be_visible()
