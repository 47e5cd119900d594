"""Start a command tool's program under its guard (``command_guard.py``), in a process
group of its own: the group's leader is the guard, which ends the group when signoff
closes the control pipe, or dies. Signoff keeps that pipe's write end for as long as the
call runs; closing it ends whatever of the call is still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

from .base import ToolError, ToolNotRun
from .command_guard import GUARD

__all__ = ["start_guarded"]


async def _said(fd: int) -> bytes:
    loop = asyncio.get_running_loop()
    said: asyncio.Future[bytes] = loop.create_future()

    def read() -> None:
        if not said.done():
            said.set_result(os.read(fd, 64))

    loop.add_reader(fd, read)
    try:
        return await said
    finally:
        loop.remove_reader(fd)


async def start_guarded(
    argv: list[str], *, stdout: int, stderr: int, env: dict[str, str], cwd: str | os.PathLike[str]
) -> tuple[asyncio.subprocess.Process, int]:
    """The guard's process (the group leader, which exits as the program does) and the
    control pipe's write end, for the caller to close once the call ends. ``ToolNotRun``
    when the program cannot be started (the guard says why), ``ToolError`` when the
    guard ended before it said whether it started the program."""
    control_read, control = os.pipe()
    status, status_write = os.pipe()
    try:
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",
                "-S",
                GUARD,
                str(control_read),
                str(status_write),
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                env=env,
                cwd=cwd,
                start_new_session=True,  # its own process group, killed as one
                pass_fds=(control_read, status_write),
            )
        finally:
            os.close(control_read)
            os.close(status_write)
        said = await _said(status)
    except BaseException:
        os.close(control)
        raise
    finally:
        os.close(status)
    if said.strip() != b"0":
        os.close(control)
        with contextlib.suppress(ProcessLookupError):
            await proc.wait()
        errno = int(said) if said.strip().isdigit() else 0
        if errno:  # the guard's exec of it failed: it never ran
            raise ToolNotRun(f"could not start {argv[0]}: {os.strerror(errno)}")
        raise ToolError(f"could not start {argv[0]}: its guard ended before it started")
    return proc, control
