"""Driving the ``signoff`` CLI in real subprocesses, and reading what they left on disk.

A plain module (not a conftest): the crash-safety and multi-process tests import it after
putting ``tests/`` on ``sys.path``. Every helper takes the ``SIGNOFF_HOME`` directory and
reads the files directly, never the index, so a test sees what a restarted process sees.

Each CLI call is its own process. Starting one costs ~0.3 s of CPU, nearly all of it
importing; so by default a *fork server* (one interpreter per test thread that has only
imported the commands and never run anything) forks a child per call: the child sets its
environment, optionally freezes time, runs ``main(argv)`` and exits; a failpoint's
SIGKILL kills that child alone. ``fresh=True`` execs a brand-new interpreter instead.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEAM = "T0LOCAL"
CHANNEL = "C0OPS"
THREAD_TS = "1700000000.000100"
TERMINAL = {"completed", "failed", "awaiting_approval", "cancelled"}
TIMEOUT = 60

# Waits for a "go" file when asked to, so a group of processes starts together.
_WAIT_GO = r"""
def _wait_go(ready, go):
    if ready != "-":
        open(ready, "w").close()
    if go != "-":
        deadline = time.monotonic() + 30
        while not os.path.exists(go):
            if time.monotonic() > deadline:
                sys.exit("launcher: the go file never appeared")
            time.sleep(0.0005)
"""

# A fresh interpreter: argv[1] a freezegun time or "-", argv[2] a "ready" file to create
# and argv[3] a "go" file to wait for (or "-" each), then the CLI's arguments.
LAUNCHER = (
    "import os, sys, time\n"
    + _WAIT_GO
    + r"""
frozen, ready, go = sys.argv[1:4]
if frozen != "-":
    from freezegun import freeze_time
    freeze_time(frozen).start()
from bot.cli import main
_wait_go(ready, go)
sys.exit(main(sys.argv[4:]))
"""
)

# The fork server: JSON requests on stdin, JSON replies on stdout.
#   {"op": "spawn", "argv", "env", "frozen", "ready", "go", "stdout", "stderr"} -> {"pid"}
#   {"op": "wait", "pid"} -> {"returncode"}  (negative: killed by that signal)
FORK_SERVER = (
    "import atexit, io, json, os, sys, threading, time, traceback\n"
    + _WAIT_GO
    + r"""
import freezegun
import bot.cli_commands  # what main loads at its first call: each child starts with it
# What a command loads later, when it needs them (a turn, a call to Slack): loaded once here
# rather than in every child.
import jsonschema, slack_sdk, slack_sdk.web.async_client
from bot.cli import main


def _child(req):
    for fd, path, flags in (
        (0, os.devnull, os.O_RDONLY),
        (1, req["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        (2, req["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
    ):
        new = os.open(path, flags, 0o644)
        os.dup2(new, fd)
        os.close(new)
    # Unbuffered, like PYTHONUNBUFFERED: what was printed before a SIGKILL is kept. The
    # encoding and error handlers Python chose at start (stderr: backslashreplace), as a
    # process of its own would have them.
    for fd, name, was in ((1, "stdout", sys.__stdout__), (2, "stderr", sys.__stderr__)):
        stream = io.TextIOWrapper(
            io.FileIO(fd, "w", closefd=False),
            encoding=was.encoding, errors=was.errors, write_through=True,
        )
        setattr(sys, name, stream)
    os.environ.clear()
    os.environ.update(req["env"])
    code = 1
    try:
        if req["frozen"] != "-":
            freezegun.freeze_time(req["frozen"]).start()
        _wait_go(req["ready"], req["go"])
        code = main(req["argv"])
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException:
        traceback.print_exc()
    finally:
        # What an interpreter does as it ends and os._exit skips: a thread the command
        # left running holds its exit (the console script would hang: so does this, and
        # the wait times out), then atexit's handlers.
        try:
            threading._shutdown()
            atexit._run_exitfuncs()
        except BaseException:
            traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "spawn":
        pid = os.fork()
        if pid == 0:
            _child(req)
        reply = {"pid": pid}
    else:
        _, status = os.waitpid(req["pid"], 0)
        reply = {"returncode": os.waitstatus_to_exitcode(status)}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
"""
)


def cli_env(
    home: Path,
    *,
    failpoint: str | None = None,
    policy: Path | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """A clean environment: no proxies, no stray failpoint or config from the caller."""
    env = {
        k: v
        for k, v in os.environ.items()
        if "proxy" not in k.lower() and not k.startswith(("SIGNOFF_", "SLACK_"))
    }
    env["SIGNOFF_HOME"] = str(home)
    env["SIGNOFF_MODEL"] = "offline"
    env["SIGNOFF_DEMO"] = "1"  # the simulated fleet, asked for explicitly
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # What a process said before it was killed must reach the pipe: replies are checked.
    env["PYTHONUNBUFFERED"] = "1"
    if failpoint:
        env["SIGNOFF_FAILPOINT"] = failpoint
    if policy is not None:
        env["SIGNOFF_POLICY"] = str(policy)
    env.update(extra or {})
    return env


def launcher_argv(
    args: Sequence[str],
    *,
    frozen: str | None = None,
    ready: Path | None = None,
    go: Path | None = None,
) -> list[str]:
    return [
        sys.executable,
        "-c",
        LAUNCHER,
        frozen or "-",
        str(ready) if ready else "-",
        str(go) if go else "-",
        *args,
    ]


@dataclass
class Done:
    """How one CLI process ended (the shape of subprocess.CompletedProcess)."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def verb(self) -> str:
        return self.args[0]

    @property
    def user(self) -> str:
        return self.args[self.args.index("--as") + 1]


class ForkServer:
    """One pre-imported interpreter that forks a child process per CLI call."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", FORK_SERVER],
            env=cli_env(Path("/nonexistent")),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._outputs = 0

    def _ask(self, request: dict[str, Any], *, timeout: float = TIMEOUT) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        readable, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not readable:
            if request["op"] == "wait":
                os.kill(request["pid"], signal.SIGKILL)  # a hung CLI process we started
                # Its reply comes now: read, so that the next request reads its own.
                if select.select([self.proc.stdout], [], [], 10)[0]:
                    self.proc.stdout.readline()
            raise TimeoutError(f"fork server: no answer to {request['op']} in {timeout}s")
        reply: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return reply

    def spawn(
        self,
        args: Sequence[str],
        env: dict[str, str],
        *,
        logs: Path,
        frozen: str | None = None,
        ready: Path | None = None,
        go: Path | None = None,
    ) -> Started:
        logs.mkdir(parents=True, exist_ok=True)
        self._outputs += 1
        out = logs / f"{os.getpid()}-{threading.get_ident()}-{self._outputs}"
        request = {
            "op": "spawn",
            "argv": list(args),
            "env": env,
            "frozen": frozen or "-",
            "ready": str(ready) if ready else "-",
            "go": str(go) if go else "-",
            "stdout": f"{out}.out",
            "stderr": f"{out}.err",
        }
        pid = int(self._ask(request)["pid"])
        return Started(self, list(args), pid, Path(f"{out}.out"), Path(f"{out}.err"))

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Started:
    server: ForkServer
    args: list[str]
    pid: int
    stdout_path: Path
    stderr_path: Path

    def wait(self, *, timeout: float = TIMEOUT) -> Done:
        reply = self.server._ask({"op": "wait", "pid": self.pid}, timeout=timeout)
        return Done(
            self.args,
            int(reply["returncode"]),
            self.stdout_path.read_text(),
            self.stderr_path.read_text(),
        )


_servers = threading.local()
_all_servers: list[ForkServer] = []


def fork_server() -> ForkServer:
    """This thread's fork server (each thread its own, so calls never wait on each other)."""
    server: ForkServer | None = getattr(_servers, "server", None)
    if server is None or server.proc.poll() is not None:
        server = ForkServer()
        _servers.server = server
        _all_servers.append(server)
    return server


def close_fork_servers() -> None:
    while _all_servers:
        _all_servers.pop().close()


def cli(
    home: Path,
    *args: str,
    failpoint: str | None = None,
    frozen: str | None = None,
    policy: Path | None = None,
    fresh: bool = False,
    env: dict[str, str] | None = None,
) -> Done:
    """Run ``signoff <args>`` to the end in its own process (``env``: extra variables)."""
    extra = env
    env = cli_env(home, failpoint=failpoint, policy=policy, extra=extra)
    if fresh:
        proc = subprocess.run(
            launcher_argv(args, frozen=frozen),
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        return Done(list(args), proc.returncode, proc.stdout, proc.stderr)
    return fork_server().spawn(args, env, logs=home.parent / "cli-logs", frozen=frozen).wait()


def ok(done: Done) -> Done:
    assert done.returncode == 0, describe(done)
    return done


def describe(done: Done) -> str:
    return (
        f"signoff {' '.join(done.args)}: exit {done.returncode}\n"
        f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    )


def say(
    home: Path,
    text: str,
    *,
    ts: str,
    user: str = "U0ALICE",
    thread_ts: str = THREAD_TS,
    failpoint: str | None = None,
    frozen: str | None = None,
    policy: Path | None = None,
    fresh: bool = False,
) -> Done:
    return cli(
        home,
        *say_args(text, ts=ts, user=user, thread_ts=thread_ts),
        failpoint=failpoint,
        frozen=frozen,
        policy=policy,
        fresh=fresh,
    )


def decide(home: Path, verb: str, approval_id: str, user: str, **kw: Any) -> Done:
    return cli(home, verb, approval_id, "--as", user, **kw)


def pending_ids(home: Path, *, frozen: str | None = None) -> list[str]:
    """What ``signoff pending`` lists (at ``frozen``: it leaves out requests past their
    deadline)."""
    out = ok(cli(home, "pending", frozen=frozen)).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith("appr_")]


def release_together(home: Path, commands: Sequence[Sequence[str]]) -> list[Done]:
    """One CLI process per command, all started first and then released at the same moment."""
    gate = home.parent / f"gate-{time.monotonic_ns()}"
    gate.mkdir(parents=True)
    go = gate / "go"
    server = fork_server()
    env = cli_env(home)
    started: list[Started] = []
    try:
        for n, args in enumerate(commands):
            ready = gate / f"ready-{n}"
            started.append(
                server.spawn(args, env, logs=home.parent / "cli-logs", ready=ready, go=go)
            )
        deadline = time.monotonic() + TIMEOUT
        while not all((gate / f"ready-{n}").exists() for n in range(len(started))):
            assert time.monotonic() < deadline, "the processes never got ready"
            time.sleep(0.002)
    finally:
        go.touch()  # also on failure, so that nothing is left waiting
    return [s.wait() for s in started]


def race(home: Path, approval_id: str, contenders: Iterable[tuple[str, str]]) -> list[Done]:
    """One ``approve``/``deny`` process per (verb, user), released at the same moment."""
    return release_together(home, [[verb, approval_id, "--as", user] for verb, user in contenders])


def say_args(text: str, *, ts: str, user: str = "U0ALICE", thread_ts: str = THREAD_TS) -> list[str]:
    return ["say", "--as", user, "--channel", CHANNEL, "--thread", thread_ts, "--ts", ts, text]


# reading the disk ------------------------------------------------------------------------
def thread_dir(home: Path, thread_ts: str = THREAD_TS) -> Path:
    shard = f"{zlib.crc32(thread_ts.encode()) & 0xFF:02x}"  # docs/storage.md's layout
    return home / "threads" / TEAM / CHANNEL / shard / thread_ts


def head_id(home: Path, thread_ts: str = THREAD_TS) -> str:
    return (thread_dir(home, thread_ts) / "HEAD").read_text().strip()


def session_path(home: Path, session_id: str) -> Path:
    """A session's directory (docs/storage.md): sharded by the id's first two hex digits."""
    return home / "sessions" / session_id[5:7] / session_id


def pointer_path(home: Path, approval_id: str) -> Path:
    """An approval's pointer file, sharded the same way."""
    return home / "approvals" / approval_id[5:7] / approval_id


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


def transcript(home: Path, session_id: str) -> list[dict[str, Any]]:
    """The whole transcript as docs/storage.md describes it: a child's first line may
    continue its parent's transcript (its first ``lines`` records)."""
    own = read_jsonl(session_path(home, session_id) / "transcript.jsonl")
    if own and "continues" in own[0] and "role" not in own[0]:
        ref = own[0]["continues"]
        return transcript(home, ref["session"])[: ref["lines"]] + own[1:]
    return own


def head_transcript(home: Path, thread_ts: str = THREAD_TS) -> list[dict[str, Any]]:
    return transcript(home, head_id(home, thread_ts))


def session_record(home: Path, session_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((session_path(home, session_id) / "session.json").read_text())
    return data


def session_ids(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "sessions").glob("[0-9a-f][0-9a-f]/sess_*"))


def lineage(home: Path, thread_ts: str = THREAD_TS) -> list[str]:
    """Session ids of the thread, oldest first, by parent links from HEAD."""
    chain: list[str] = []
    current: str | None = head_id(home, thread_ts)
    while current is not None:
        chain.append(current)
        current = session_record(home, current)["parent_id"]
    return chain[::-1]


def trace_events(home: Path, session_id: str) -> list[dict[str, Any]]:
    path = session_path(home, session_id) / "trace.jsonl"
    return read_jsonl(path) if path.exists() else []


def tickets(home: Path, session_id: str) -> list[dict[str, Any]]:
    directory = session_path(home, session_id)
    legacy = [json.loads(p.read_text()) for p in sorted(directory.glob("tickets/*.json"))]
    path = directory / "tickets.jsonl"
    return legacy + (read_jsonl(path) if path.exists() else [])


def fleet(home: Path) -> dict[str, Any]:
    path = home / "fleet.json"
    if not path.exists():
        return {"services": {"api": {"restarts": 0}}, "history": []}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def restarts(home: Path, service: str = "api") -> int:
    return int(fleet(home)["services"][service]["restarts"])


def approvals_dir_of(home: Path, approval_id: str) -> Path:
    pointer: dict[str, str] = json.loads(pointer_path(home, approval_id).read_text())
    return session_path(home, pointer["session"]) / "approvals"


def capsule(home: Path, approval_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (approvals_dir_of(home, approval_id) / f"{approval_id}.json").read_text()
    )
    return data


def decision(home: Path, approval_id: str) -> dict[str, Any] | None:
    path = approvals_dir_of(home, approval_id) / f"{approval_id}.decision.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def outbox_entries(home: Path) -> list[dict[str, Any]]:
    """Everything ever queued for Slack: pending, or sent (a done record keeps its entry)."""
    root = home / "outbox"
    entries = [json.loads(p.read_text()) for p in sorted(root.glob("pending/*.json"))]
    entries += [json.loads(p.read_text())["entry"] for p in sorted(root.glob("done/*/*.json"))]
    return entries


def all_approval_ids(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "approvals").glob("*/appr_*"))


def tool_calls(home: Path, thread_ts: str = THREAD_TS) -> list[dict[str, Any]]:
    """Every tool call the model made, in the HEAD transcript."""
    return [
        call
        for m in head_transcript(home, thread_ts)
        if m.get("role") == "assistant"
        for call in m.get("tool_calls") or []
    ]


def tool_starts(home: Path, tool: str) -> int:
    """How many times ``tool`` was started, over every session of the home."""
    return sum(
        1
        for sid in session_ids(home)
        for e in trace_events(home, sid)
        if e.get("kind") == "tool_started" and (e.get("data") or {}).get("tool") == tool
    )


def assert_healthy(
    home: Path, sent_ts: Iterable[str], thread_ts: str = THREAD_TS, *, verify: bool = True
) -> None:
    """The invariants every scenario ends with, whatever crashed where.

    (a) every sent message is in the final transcript exactly once and the inbox is drained;
    (b) no side effect ran twice; (c) every session is terminal and ``signoff verify`` passes
    (``verify=False`` skips that run, for callers that ran it already).
    """
    users = [m for m in head_transcript(home, thread_ts) if m.get("role") == "user"]
    seen = [m.get("ts") for m in users]
    for ts in sent_ts:
        assert seen.count(ts) == 1, f"message {ts} appears {seen.count(ts)} times: {seen}"
    new = thread_dir(home, thread_ts) / "inbox" / "new"
    stranded = [n for n in os.listdir(new) if not n.startswith(".")]  # a dot: staged, not acked
    assert stranded == [], "messages stranded in inbox/new"

    data = fleet(home)
    keys = [entry["key"] for entry in data["history"]]
    assert len(keys) == len(set(keys)), f"a change was applied twice: {keys}"
    for name, service in data["services"].items():
        assert service["restarts"] <= 1, f"{name} restarted {service['restarts']} times"
    for approval_id in all_approval_ids(home):
        assert keys.count(approval_id) <= 1

    states = {sid: session_record(home, sid)["state"] for sid in session_ids(home)}
    assert all(s in TERMINAL for s in states.values()), f"non-terminal sessions: {states}"
    if verify:  # callers that ran `signoff verify` already pass False
        ok(cli(home, "verify"))


@contextmanager
def stopped_holding(directory: Path) -> Iterator[int]:
    """A process holding ``directory``'s lock, stopped (as by Ctrl-Z) until the end."""
    from sessions import dir_lock

    with stopped_while(lambda: dir_lock(directory)) as pid:
        yield pid


@contextmanager
def stopped_claiming_delivery(home: Path) -> Iterator[int]:
    """A process holding ``home``'s outbox drain claim (a terminal given the bot's tokens,
    delivering what it queued), stopped (as by Ctrl-Z) until the end."""
    from sessions import Home
    from sessions.outbox import Outbox

    @contextmanager
    def claimed() -> Iterator[None]:
        claim = Outbox(Home(home)).claim_drainer()
        assert claim is not None, "the drain claim is already held"
        try:
            yield
        finally:
            claim.release()

    with stopped_while(claimed) as pid:
        yield pid


@contextmanager
def stopped_while(hold: Callable[[], AbstractContextManager[object]]) -> Iterator[int]:
    """A forked process that stops itself (SIGSTOP) inside ``hold()``; yields its pid, and
    lets it go on (and leave ``hold``) at the end."""
    pid = os.fork()
    if pid == 0:  # never returns into pytest
        try:
            with hold():
                os.kill(os.getpid(), signal.SIGSTOP)
        finally:
            os._exit(0)
    try:
        _, status = os.waitpid(pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), status
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
