"""The command signoff starts for the test MCP server: hands its stdin, stdout and stderr to
``mcp_zygote.py``, which forks the server, then lives as long as that server and ends as it
did. Standard library only, run with ``python -S``: it starts in a few milliseconds.

    python -S mcp_launcher.py ZYGOTE_SOCKET ops_mcp_server.py [its arguments…]
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys


def main() -> int:
    path, *argv = sys.argv[1:]
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    payload = json.dumps({"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    socket.send_fds(conn, [struct.pack("!I", len(payload)) + payload], [0, 1, 2])
    answers = conn.makefile("rb")
    pid = int(answers.readline())
    # The server holds the pipes now: they close when it ends, not when this process does.
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)

    def pass_on(signum: int, _frame: object) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, pass_on)
    line = answers.readline()
    if not line:
        return 1  # the zygote went away (its test ended)
    code = int(line)
    if code < 0:  # killed by a signal: so is this process
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


if __name__ == "__main__":
    sys.exit(main())
