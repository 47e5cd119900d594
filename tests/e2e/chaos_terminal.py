"""``signoff approve|deny`` from a terminal, as a chaos person runs it beside the bot.

What counts as an honest ending: exit 0 (decided, or a vote counted), exit 1 with the
command's own refusal as its last line (decided meanwhile, by a click or another
terminal; not allowed; a second vote), or exit 3 because the index was held past its
wait after the decision was recorded (the bot carries the thread on). An uncaught
exception exits 1 too, so the exit code alone does not tell a refusal from a crash. A
command that runs a minute is hung.

Killed, it is killed either early (``early``: most likely while it still starts or
before its decision is on disk) or just after the request's decision is on disk
(``in_call``: the approved call, which the command runs in its own process).
"""

from __future__ import annotations

import asyncio
import json
from asyncio.subprocess import DEVNULL, PIPE
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ops_kit import SIGNOFF

__all__ = ["Ended", "Kill", "decision_on_disk", "failure", "run_terminal"]

Kill = Literal["early", "in_call"] | None
REFUSALS = ("already decided:", "refused:", "you already voted")
HUNG_S = 60.0


@dataclass(frozen=True)
class Ended:
    killed: bool = False
    decided_before_kill: bool = False  # the request's decision was on disk when it died
    failure: str | None = None


def failure(command: str, code: int, out: str, err: str) -> str | None:
    # The command's own line comes first; the thread's echo (indented) may follow it.
    lines = [line for line in out.splitlines() if line.strip() and not line[0].isspace()]
    if code == 0 or (code == 1 and lines and lines[0].startswith(REFUSALS)):
        return None
    if code == 3 and "could not be carried on now: the index could not be used" in err:
        return None  # decided; the index was held past its wait: the bot carries it on
    if code == 3 and err and all("did not run here" in line for line in err.splitlines()):
        return None  # decided; its tool (the MCP server) not up here: the bot runs it
    said = (err.strip() or out.strip())[-300:]
    return f"{command}: exit {code}: {said}"


def decision_on_disk(home: Path, approval_id: str) -> bool:
    """Whether the request's decision is written (whoever made it)."""
    try:
        pointer = json.loads((home / "approvals" / approval_id[5:7] / approval_id).read_text())
    except (OSError, ValueError):
        return False
    session = str(pointer.get("session", "")) if isinstance(pointer, dict) else ""
    path = home / "sessions" / session[5:7] / session / "approvals" / f"{approval_id}.decision.json"
    return bool(session) and path.exists()


async def run_terminal(
    args: list[str],
    env: dict[str, str],
    *,
    kill: Kill,
    pause: float,
    decided: Callable[[], bool],
) -> Ended:
    """``pause`` (0 to 1, drawn by the caller, whose draws a seed replays): where in its
    window the kill lands."""
    command = f"signoff {' '.join(args)}"
    proc = await asyncio.create_subprocess_exec(
        SIGNOFF, *args, env=env, stdin=DEVNULL, stdout=PIPE, stderr=PIPE
    )
    talk = asyncio.ensure_future(proc.communicate())
    if kill == "early":
        await asyncio.wait([talk], timeout=0.05 + 0.35 * pause)
    elif kill == "in_call":
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HUNG_S
        while not talk.done() and not decided() and loop.time() < deadline:
            await asyncio.wait([talk], timeout=0.005)
        await asyncio.wait([talk], timeout=0.06 * pause)
    else:
        await asyncio.wait([talk], timeout=HUNG_S)
    if not talk.done():
        on_disk = decided()
        proc.kill()
        await talk
        if kill is None or (kill == "in_call" and not on_disk):
            return Ended(killed=True, failure=f"{command}: still running after {HUNG_S:g} s")
        return Ended(killed=True, decided_before_kill=on_disk)
    out, err = talk.result()
    code = proc.returncode
    assert code is not None
    return Ended(
        failure=failure(command, code, out.decode(errors="replace"), err.decode(errors="replace"))
    )
