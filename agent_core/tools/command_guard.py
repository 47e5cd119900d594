"""The parent of a command tool's program: it dies with signoff, and takes the program along.

signoff runs each command in a process group of its own, so that a timeout kills all of
it, children included; but that also keeps it out of reach of whatever kills signoff. A
``signoff run`` SIGKILLed (the OOM killer, a deploy) left a hung command running for ever,
past its timeout, with nothing left that would stop it (the next signoff only says the
call may or may not have run). So the group's leader is this small program: it starts the
command in its group, holds the read end of a pipe whose write end only signoff holds,
and kills the whole group when that pipe ends (signoff gone, or done with the call). It
exits as the command did (its code, or the signal that killed it), so signoff reads the
command's own exit. ``PR_SET_PDEATHSIG`` alone would reach the command but not what it
started.

Run as a script with only the standard library (``python -I -S``): it starts in
milliseconds, and imports nothing of signoff's.

    command_guard.py <control fd> <status fd> <program> [arguments…]

It writes ``0`` to the status pipe once the program started, or the ``errno`` of why it
could not (then it exits 127), and closes it.
"""

from __future__ import annotations

import os
import select
import signal
import sys

__all__ = ["GUARD", "run"]

GUARD = os.path.abspath(__file__)


def _end_group() -> None:
    # Itself included: nothing of the call outlives the guard.
    os.killpg(0, signal.SIGKILL)


def _exit_as(status: int) -> None:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number not in (signal.SIGKILL, signal.SIGSTOP):  # the two no one can catch
            signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
        os._exit(128 + number)  # a signal whose default is not to end a process
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def run(argv: list[str]) -> None:
    control, status, program = int(argv[0]), int(argv[1]), argv[2:]
    os.set_inheritable(control, False)  # the command must not hold signoff's pipe
    os.set_inheritable(status, False)
    # The timeout's SIGTERM goes to the whole group, this guard included: dying of it, the
    # guard's exit read as the command's end and the group was SIGKILLed at once, before
    # the grace the program has to clean up. The program gets that SIGTERM itself.
    signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        # SIGPIPE and SIGXFSZ back to their defaults, as subprocess gives a child (Python
        # ignores them, and an ignored signal stays ignored across exec); SIGTERM too.
        reset = (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGTERM)
        pid = os.posix_spawnp(program[0], program, os.environ, setsigdef=reset)
    except OSError as exc:
        os.write(status, f"{exc.errno or 0}\n".encode())
        os._exit(127)
    os.write(status, b"0\n")
    os.close(status)
    exited = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(exited, select.POLLIN)
    poller.register(control, select.POLLIN | select.POLLHUP)
    while True:
        for fd, _ in poller.poll():
            if fd == exited:
                _, code = os.waitpid(pid, 0)
                _exit_as(code)
            elif not os.read(control, 64):  # signoff closed it, or is gone
                _end_group()


if __name__ == "__main__":
    run(sys.argv[1:])
