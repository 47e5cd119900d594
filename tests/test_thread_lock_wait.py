"""A terminal command waiting for another process's turn in its thread says so.

Another process holding the thread (a bot's long turn, a terminal suspended with Ctrl-Z)
kept ``signoff say`` waiting, by design, but silent: after 45 s nothing on the terminal,
which looks like a hang. Now, after a few seconds, it says on stderr, once, that it waits
for the turn running in that thread, which process holds it and that it is stopped, and
that Ctrl-C stops waiting with nothing lost; it keeps waiting. Ctrl-C then exits 130 and
the message is answered by the next ``signoff recover``.

Deterministic: a forked process takes the thread's lock and stops itself (SIGSTOP).
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from helpers_proc import (
    THREAD_TS,
    cli_env,
    head_transcript,
    ok,
    say,
    say_args,
    stopped_holding,
    thread_dir,
)
from helpers_proc import cli as run_cli
from test_cli_errors import SIGNOFF


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as at a terminal, whatever runs the tests


async def _waits_then_ctrl_c(home: Path) -> tuple[int, list[str]]:
    """``signoff say`` in the held thread: its stderr lines until its notice, then (still
    running a second after) Ctrl-C; its exit status and every line it wrote to stderr."""
    child = await asyncio.create_subprocess_exec(
        SIGNOFF, *say_args("again", ts="1700000000.000200"), env=cli_env(home),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        preexec_fn=_default_sigint,
    )  # fmt: skip
    assert child.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(30):
            while "waiting" not in (lines[-1] if lines else ""):
                line = await child.stderr.readline()
                assert line, f"stderr closed: {lines}"
                lines.append(line.decode())
        # It keeps waiting after the notice, and says it once.
        done, _ = await asyncio.wait({asyncio.ensure_future(child.wait())}, timeout=1.0)
        assert not done, f"it stopped waiting: exit {child.returncode}, {lines}"
        child.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            _, err = await child.communicate()
        lines += err.decode().splitlines(keepends=True)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    assert child.returncode is not None
    return child.returncode, lines


def test_a_command_waiting_for_a_stopped_turn_says_so_and_ctrl_c_loses_nothing(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    ok(say(home, "hi", ts=THREAD_TS))
    with stopped_holding(thread_dir(home)) as holder:
        code, lines = asyncio.run(_waits_then_ctrl_c(home))
        notice = [line for line in lines if "waiting" in line]
        assert len(notice) == 1, lines
        said = notice[0]
        assert f"thread T0LOCAL/C0OPS/{THREAD_TS}" in said, said
        assert f"process {holder}" in said and "stopped" in said, said
        assert "Ctrl-C" in said, said
        assert code == 128 + signal.SIGINT, lines
        assert lines == notice, lines  # quiet on Ctrl-C, as documented
    # Nothing lost: the message is recorded, and the next run of the thread answers it.
    ok(run_cli(home, "recover"))
    users = [m["ts"] for m in head_transcript(home) if m.get("role") == "user"]
    assert users == [THREAD_TS, "1700000000.000200"], users
