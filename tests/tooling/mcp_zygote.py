"""One process that has imported the ops MCP server and forks a server for each launch.

The test MCP server imports the ``mcp`` SDK, a second of CPU each time it starts, and the
suite starts it some sixty times (bots restarted, servers killed on purpose). Here it is
imported once per test process: ``mcp_launcher.py`` (the command signoff starts, standard
library only) hands this process its stdin, stdout and stderr, and the server forked here
talks over them, so signoff speaks to a real server built with the SDK over the pipes it
made. The launcher lives as long as that server and ends as it did (its exit code, or the
signal that killed it); a SIGTERM or SIGINT it gets is passed on; when the launcher is
killed, the server is SIGKILLed, as the process group signoff kills would have been.

    python mcp_zygote.py SOCKET     # serves until its stdin (a pipe from the test) closes
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import struct
import sys

import mcp.server.stdio  # noqa: F401  # what the server loads as it starts: loaded once here
import ops_mcp_server

_HEADER = struct.Struct("!I")


def _request(conn: socket.socket) -> tuple[dict[str, object], list[int]]:
    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    size = _HEADER.unpack_from(data)[0]
    while len(data) < _HEADER.size + size:
        more = conn.recv(1 << 20)
        if not more:
            raise ConnectionError("the launcher went away mid-request")
        data += more
    return json.loads(data[_HEADER.size :]), fds


def _serve_one(request: dict[str, object], fds: list[int], keep: list[int]) -> None:
    """The forked server: never returns."""
    code = 1
    try:
        for fd in keep:
            os.close(fd)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.chdir(str(request["cwd"]))
        env = request["env"]
        assert isinstance(env, dict)
        os.environ.clear()
        os.environ.update(env)
        argv = request["argv"]
        assert isinstance(argv, list)
        sys.argv = [str(a) for a in argv]  # ops_mcp_server.py and its arguments
        ops_mcp_server.main()
        code = 0
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _closed(conn: socket.socket) -> bool:
    """A launcher only ever closes its connection: killed, maybe with the pid unread, which
    reads as ECONNRESET."""
    try:
        return not conn.recv(1)
    except OSError:
        return True


def main() -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sys.argv[1])
    listener.listen(64)
    print("ready", flush=True)
    servers: dict[int, socket.socket] = {}  # server pid -> its launcher's connection
    while True:
        waiting = [listener, sys.stdin, *servers.values()]
        readable, _, _ = select.select(waiting, [], [], 0.02)
        if sys.stdin in readable and not os.read(sys.stdin.fileno(), 1024):
            for pid in servers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            # The socket's directory (mcp_fixture_kit's mkdtemp): left, one per test
            # process and run piled up in /tmp.
            with contextlib.suppress(OSError):
                os.unlink(sys.argv[1])
                os.rmdir(os.path.dirname(sys.argv[1]))
            return
        for pid, conn in list(servers.items()):
            if conn in readable and _closed(conn):  # the launcher was killed
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if listener in readable:
            conn, _ = listener.accept()
            try:
                request, fds = _request(conn)
            except (OSError, ValueError, struct.error):
                conn.close()
            else:
                keep = [listener.fileno(), conn.fileno(), *(c.fileno() for c in servers.values())]
                pid = os.fork()
                if pid == 0:
                    _serve_one(request, fds, keep)
                for fd in fds:
                    os.close(fd)
                # A launcher killed since it asked: its server is killed at the next turn
                # (its connection reads as closed), and this process goes on serving.
                with contextlib.suppress(OSError):
                    conn.sendall(f"{pid}\n".encode())
                servers[pid] = conn
        while servers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            conn = servers.pop(pid)
            with contextlib.suppress(OSError):
                conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
            conn.close()


if __name__ == "__main__":
    main()
