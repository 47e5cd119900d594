"""One call of a command tool: its program run to its end, its output kept, its report.

The program runs in the session's workspace, in its own process group under a guard
(``guarded_start``, ``command_guard``), which the timeout kills as a whole (as does output
past ``OUTPUT_LIMIT_BYTES``, a runaway that would fill the disk). stdout and stderr are
pipes signoff copies to files in the workspace (kept whole) and closes when the call ends;
the model reads the exit code and the first ``OUTPUT_LIMIT`` characters of each.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..cancelling import cancel_and_wait
from .base import ToolError, ToolNotRun, ToolOutcomeUnknown
from .guarded_start import start_guarded
from .kept_files import new_kept_files
from .kept_pipe import KeptPipe
from .output import output_path, read_head

__all__ = ["OUTPUT_LIMIT_BYTES", "run_command"]

# Seconds between SIGTERM and SIGKILL for the process group at the timeout.
_KILL_GRACE = 2.0
# The output a command may leave in the workspace (stdout and stderr together): more is
# a runaway that would fill the disk. Its size is looked at this often (seconds).
OUTPUT_LIMIT_BYTES = 64 << 20
_OUTPUT_CHECK = 0.2


class _OutputRanAway(Exception):
    pass


async def run_command(
    argv: list[str],
    *,
    tool: str,
    call_id: str,
    workspace: Path,
    env: dict[str, str],
    timeout_seconds: float | None,
    output_limit: int,
    secrets: tuple[str, ...],
) -> str:
    """Run ``argv`` to its end: its report when it exits 0; ``ToolError`` for another
    exit (the report), ``ToolNotRun`` for a program that could not be started;
    ``ToolOutcomeUnknown`` when it was killed (at ``timeout_seconds``, for output past
    ``output_limit``, or from outside)."""
    out_path = output_path(workspace, tool=tool, call_id=call_id, stream="stdout")
    err_path = out_path.with_suffix(".stderr")
    with (
        # Read back for the report (the command may remove the paths: it runs in the
        # workspace); unbuffered, so a full disk fails the copy, never the close.
        _kept_files(workspace, out_path, err_path) as (out, err),
        contextlib.ExitStack() as pipes_open,
    ):
        # Through pipes signoff closes when the call ends: a process that outlived it
        # would otherwise write on in the kept output and change a sealed session.
        pipes: list[KeptPipe] = []
        for handle in (out, err):  # each closed however the call ends (even EMFILE)
            pipes.append(KeptPipe(handle))
            pipes_open.callback(pipes[-1].close)
        kept = (("stdout", out, out_path), ("stderr", err, err_path))
        try:
            # Under a guard that ends the group if signoff dies (``command_guard``).
            proc, control = await start_guarded(
                argv,
                stdout=pipes[0].write_fd,
                stderr=pipes[1].write_fd,
                env=env,
                cwd=workspace,
            )
        except OSError as exc:  # its guard could not be started: nothing ran
            raise ToolNotRun(f"could not start {argv[0]}: {exc.strerror or exc}") from None
        pipes_open.callback(os.close, control)  # closed when the call ends, as they are
        for pipe in pipes:
            pipe.started()
        try:
            async with asyncio.timeout(timeout_seconds):  # never swallows a cancel
                code = await _exit_code(proc, (out, err), output_limit)
            # What it left running in its group goes with it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            pipes_open.close()
            report = _report(code, kept, workspace, secrets=secrets)
        except (TimeoutError, _OutputRanAway) as exc:
            await _kill_group(proc)
            pipes_open.close()
            report = _report(None, kept, workspace, secrets=secrets)
            why = (
                f"timed out after {timeout_seconds:g}s"
                if isinstance(exc, TimeoutError)
                else f"its output passed {output_limit / (1 << 20):g} MiB"
            )
            raise ToolOutcomeUnknown(
                f"{why}; its process group was killed, "
                f"so it may have done part of its work. {report}"
            ) from None
        finally:
            if proc.returncode is None:  # cancelled: never leave it running
                await asyncio.shield(_kill_group(proc))
    if code < 0:
        # Killed from outside (the OOM killer, a person): it never said it failed.
        raise ToolOutcomeUnknown(
            f"killed by signal {_signal_name(-code)} before it finished, so it may have "
            f"done part of its work. {report}"
        )
    if code != 0:
        raise ToolError(report)
    return report


async def _exit_code(
    proc: asyncio.subprocess.Process, kept: tuple[IO[bytes], ...], limit: int
) -> int:
    """Wait for the program's exit; raise ``_OutputRanAway`` once ``kept`` grow past
    ``limit`` bytes. The kernel writes them straight to disk, so their size is polled,
    through the open files: the program may remove or rename the paths meanwhile."""
    exited = asyncio.ensure_future(proc.wait())
    try:
        while not (await asyncio.wait({exited}, timeout=_OUTPUT_CHECK))[0]:
            if sum(os.fstat(f.fileno()).st_size for f in kept) > limit:
                raise _OutputRanAway
        return exited.result()
    finally:
        if not exited.done():
            await cancel_and_wait(exited)


@contextlib.contextmanager
def _kept_files(
    workspace: Path, out_path: Path, err_path: Path
) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    """The two kept files, new. ``ToolNotRun`` when they cannot be made: a raw OSError
    read as a call that ran and failed, though its program never started."""
    with contextlib.ExitStack() as kept_open:
        try:
            out, err = kept_open.enter_context(
                new_kept_files(out_path.parent, out_path.name, err_path.name)
            )
        except OSError as exc:
            where = out_path.parent.relative_to(workspace.parent)
            raise ToolNotRun(
                f"could not keep its output in {where}: {exc.strerror or exc}"
            ) from None
        yield out, err


def _signal_name(number: int) -> str:
    try:
        return f"{number} ({signal.Signals(number).name})"
    except ValueError:
        return str(number)


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    for sig, wait in ((signal.SIGTERM, _KILL_GRACE), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            async with asyncio.timeout(wait):
                await proc.wait()
            break
        except TimeoutError:
            continue
    # The leader may be gone while others in its group live on: finish them too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _report(
    code: int | None,
    kept: tuple[tuple[str, IO[bytes], Path], ...],
    workspace: Path,
    *,
    secrets: tuple[str, ...],
) -> str:
    lines = [f"exit code {code}" if code is not None and code >= 0 else "no exit code (killed)"]
    for label, handle, path in kept:
        handle.flush()
        # Read through the open file: the command may have removed or replaced the path.
        there = _same_file(handle, path)
        shown = Path("workspace") / path.relative_to(workspace) if there else None
        text, size = read_head(handle.fileno(), kept=shown, secrets=secrets)
        removed = "" if there else "; the command removed its kept file"
        lines.append(f"--- {label} ({size} bytes{removed})")
        if text:
            lines.append(text.rstrip("\n"))
    return "\n".join(lines)


def _same_file(handle: IO[bytes], path: Path) -> bool:
    try:
        now = path.stat()
    except OSError:
        return False
    held = os.fstat(handle.fileno())
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)
