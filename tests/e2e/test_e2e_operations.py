"""``signoff run`` as an operator meets it: JSON logs on stderr, HTTP on SIGNOFF_HTTP, and
every way out (SIGTERM, a taken port, a reader that went away) ends the process promptly.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import subprocess
from pathlib import Path

import aiohttp
import pytest
from loopback_ports import free_port
from ops_kit import RunProcess
from signoff_e2e_kit import OPS, approval_id_of, bot_reply, mention, until, wait_card

from bot.cards import APPROVE
from bot.config import Settings
from localslack import LocalSlack

CODEWORD = "pineapple-7"  # only in what people wrote
# A Socket Mode ticket's value (``wss://…/link/?ticket=…``) that was not scrubbed: it opens
# a connection as the bot, and slack_sdk logs the answer that holds it at DEBUG.
TICKET = re.compile(r"ticket(?:=|%3D)(?!\[redacted\])", re.IGNORECASE)


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_json_logs_carry_the_ids_and_never_a_secret(
    slack: LocalSlack, settings: Settings, tmp_path: Path, level: str
) -> None:
    run = RunProcess(
        slack, settings.home, tmp_path / "logs", http_port=free_port(), SIGNOFF_LOG_LEVEL=level
    )
    try:
        await run.connected(slack)
        thread = await mention(slack, f"status of api, codeword {CODEWORD}")
        await bot_reply(slack, thread, "service=api,")
        asked = await mention(slack, f"restart api ({CODEWORD})")
        card = await wait_card(slack, asked)
        await slack.click_button(channel=OPS, ts=card["ts"], user="U0BOB", action_id=APPROVE)
        await bot_reply(slack, asked, "restart_service` finished")
        async with aiohttp.ClientSession() as http, http.get(run.url + "/metrics") as response:
            assert response.status == 200
        run.terminate()
        assert await run.exit_code(timeout=20) == 0, run.stderr()
    finally:
        run.kill()

    lines = run.log_lines()  # every line is JSON
    assert lines
    for line in lines:
        assert {"ts", "level", "event", "logger"} <= set(line), line
        assert line["ts"].endswith("Z")
    stderr = run.stderr()
    for secret in run.secrets:
        assert secret not in stderr
    assert [line for line in stderr.splitlines() if TICKET.search(line)] == []
    stored = [line for line in lines if line["event"] == "message_stored"]
    assert {(s["team"], s["channel"], s["thread_ts"]) for s in stored} == {
        ("T0LOCAL", OPS, thread),
        ("T0LOCAL", OPS, asked),
    }
    events = {line["event"] for line in lines}
    assert {"socket_up", "socket_down", "stopped"} <= events
    # What an operator follows a request by, each with the ids involved.
    assert {"approval_requested", "card_posted", "decision", "tool_executed"} <= events
    assert "reply_posted" in events
    decision = next(line for line in lines if line["event"] == "decision")
    assert decision["approval_id"] == approval_id_of(card)
    assert (decision["user"], decision["verdict"]) == ("U0BOB", "approved")
    ran = next(
        line
        for line in lines
        if line["event"] == "tool_executed" and line["tool"] == "restart_service"
    )
    assert (ran["tool"], ran["outcome"]) == ("restart_service", "ok") and ran["ms"] >= 0
    assert ran["approval_id"] == approval_id_of(card) and ran["session_id"].startswith("sess_")
    assert approval_id_of(card).startswith("appr_")
    if level == "INFO":
        assert {line["level"] for line in lines} <= {"info", "warning", "error"}
        assert CODEWORD not in stderr  # what people wrote stays out of INFO logs
        assert "service=api," not in stderr  # and what the bot answered
    else:
        assert "debug" in {line["level"] for line in lines}
        assert "ticket=[redacted]" in stderr  # the line that held it is still there


async def test_a_taken_http_port_exits_2_with_one_line(
    slack: LocalSlack, settings: Settings, tmp_path: Path
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = RunProcess(slack, settings.home, tmp_path / "logs", http_port=port)
        try:
            # It opened the engine and the socket thread before finding the port taken:
            # it must close both and leave, not hang on them.
            assert await run.exit_code(timeout=30) == 2
        finally:
            run.kill()
    errors = [line for line in run.stderr().splitlines() if "Traceback" in line]
    assert errors == []
    # Its logs are JSON lines (stderr is a file): the reason it stopped is one too.
    last = json.loads(run.stderr().splitlines()[-1])
    assert last["event"] == "exit_error" and last["message"] == (
        f"SIGNOFF_HTTP: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    assert slack.sockets() == []


async def test_a_closed_stdout_neither_stops_nor_hangs_the_bot(
    slack: LocalSlack, settings: Settings, tmp_path: Path
) -> None:
    run = RunProcess(
        slack, settings.home, tmp_path / "logs", http_port=free_port(), stdout=subprocess.PIPE
    )
    assert run.proc.stdout is not None
    run.proc.stdout.close()  # whoever read our stdout is gone
    try:
        await run.connected(slack)
        thread = await mention(slack, "status of db")
        await bot_reply(slack, thread, "service=db,")
        run.terminate()
        assert await run.exit_code(timeout=20) == 0, run.stderr()
    finally:
        run.kill()
    assert "Traceback" not in run.stderr()


async def test_sigterm_while_slack_gives_no_socket_yet_ends_with_the_stopped_line(
    slack: LocalSlack, settings: Settings, tmp_path: Path
) -> None:
    """A stop during start-up returned before the line that says the process is done:
    the log ended at ``stopping``, as a process killed mid-drain leaves it."""
    refused = slack.inject_fault(method="apps.connections.open", error="internal_error", count=None)
    run = RunProcess(slack, settings.home, tmp_path / "logs", http_port=free_port())
    try:
        await until(lambda: refused.fired >= 1, timeout=30, what="a socket asked for")
        run.terminate()
        assert await run.exit_code(timeout=20) == 0, run.stderr()
    finally:
        run.kill()
    events = [line["event"] for line in run.log_lines()]
    assert "stopping" in events and events[-1] == "stopped", events


async def test_a_second_bot_on_one_home_exits_2_and_leaves_the_first_alone(
    slack: LocalSlack, settings: Settings, tmp_path: Path
) -> None:
    # Both ran: the second's start-up recovery and its sweep took the first's replies that
    # were streaming into Slack for what a dead process left and deleted them, and a click
    # Slack sent to either could land on the one being stopped (docs/operations.md).
    first = RunProcess(slack, settings.home, tmp_path / "first", http_port=free_port())
    second: RunProcess | None = None
    try:
        await first.connected(slack)
        second = RunProcess(slack, settings.home, tmp_path / "second", http_port=free_port())
        assert await second.exit_code(timeout=30) == 2
        last = json.loads(second.stderr().splitlines()[-1])
        assert last["event"] == "exit_error"
        assert last["message"] == (
            f"another signoff run (pid {first.proc.pid}) uses {settings.home}: one bot per "
            "home; stop it first (or set SIGNOFF_HOME to another directory)"
        )
        assert "Traceback" not in second.stderr()
        assert len(slack.sockets()) == 1  # the second never connected
        # The first still answers.
        thread = await mention(slack, "status of api")
        await bot_reply(slack, thread, "api", timeout=20)
        first.terminate()
        assert await first.exit_code(timeout=30) == 0
    finally:
        first.kill()
        if second is not None:
            second.kill()


async def test_ctrl_c_pressed_again_while_the_bot_exits_still_ends_with_0(
    slack: LocalSlack, settings: Settings, tmp_path: Path
) -> None:
    """An idle bot stops in milliseconds and then takes a moment more to exit; the loop's
    close put back the signals' default actions, so a second Ctrl-C or SIGTERM in that
    moment (Ctrl-C pressed twice, ``kill`` sent again) ended it as killed (130, 143),
    after its log had said ``stopped``: a supervisor counts that a crash."""
    run = RunProcess(slack, settings.home, tmp_path / "logs", http_port=free_port())
    try:
        await until(lambda: "signoff is running" in run.stdout(), timeout=30, what="start-up")
        run.terminate()
        again = (signal.SIGINT, signal.SIGTERM)
        # Pressed again and again until the process is gone: one of them lands after the
        # stop, whenever that is.
        for pressed in range(100_000):
            if run.proc.poll() is not None:
                break
            run.proc.send_signal(again[pressed % 2])
            await asyncio.sleep(0.005)
        assert await run.exit_code(timeout=30) == 0, run.stderr()
    finally:
        run.kill()
    events = [line["event"] for line in run.log_lines()]
    assert events[-1] == "stopped", events


def _run_with_tools(
    slack: LocalSlack,
    settings: Settings,
    tmp_path: Path,
    env: dict[str, str] | None = None,
    **modules: str,
) -> RunProcess:
    """``signoff run`` with ``SIGNOFF_TOOLS`` naming a module of each source given."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for name, source in modules.items():
        (tools / f"{name}.py").write_text(source)
    return RunProcess(
        slack,
        settings.home,
        tmp_path / "logs",
        http_port=free_port(),
        stdout=None,  # as RunProcess's own default: the rest are its environment's
        SIGNOFF_TOOLS=",".join(modules),
        PYTHONPATH=str(tools),
        **(env or {}),
    )


async def test_sigterm_while_a_tool_module_is_still_importing_ends_it_with_0(
    slack: LocalSlack, settings: Settings, tmp_path: Path
) -> None:
    """A SIGNOFF_TOOLS module that takes its time to import (it connects somewhere, or
    hangs there) was imported on the event loop, inside the bot's build: the loop's
    handler could not run until the import returned, so a SIGTERM went unanswered for as
    long as the import took, for ever if it hung, and the supervisor had to SIGKILL it."""
    source = (
        "import pathlib, time\n"
        f"pathlib.Path({str(tmp_path / 'importing')!r}).write_text('')\n"
        "time.sleep(3600)\n"
        "TOOLS = []\n"
    )
    run = _run_with_tools(slack, settings, tmp_path, {"SIGNOFF_DEMO": "0"}, hangs=source)
    try:
        await until(lambda: (tmp_path / "importing").exists(), timeout=30, what="the import")
        run.terminate()
        assert await run.exit_code(timeout=10) == 0, run.stderr()
    finally:
        run.kill()
    assert "Traceback" not in run.stderr()
    assert slack.sockets() == []


async def test_a_bot_stuck_as_it_exits_still_ends_on_the_next_sigterm(
    slack: LocalSlack, settings: Settings, tmp_path: Path
) -> None:
    """A tool module that started a thread which never ends: the bot stops (``stopped``,
    status 0), then the interpreter waits for that thread. Ignoring signals once the stop
    was done (so that a second Ctrl-C could not turn a 0 into a 130) left it there for
    good; the next SIGTERM now ends it at once, with the status it has."""
    source = (
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(3600,), name='lingers').start()\n"
        "TOOLS = []\n"
    )
    run = _run_with_tools(slack, settings, tmp_path, lingers=source)
    try:
        await until(lambda: "signoff is running" in run.stdout(), timeout=30, what="start-up")
        run.terminate()
        await until(lambda: '"stopped"' in run.stderr(), timeout=30, what="the stop")
        run.terminate()
        assert await run.exit_code(timeout=10) == 0, run.stderr()
    finally:
        run.kill()


@pytest.mark.parametrize("part", ["outbox", "approvals", "quarantine", "upgrade"])
async def test_a_home_whose_part_is_a_file_exits_2_with_one_line(
    slack: LocalSlack, settings: Settings, tmp_path: Path, part: str
) -> None:
    """Only the home, ``sessions/`` and ``threads/`` were checked at start-up. With
    ``outbox`` a file, the bot started and reported ready while every delivery pass failed
    with a traceback each second, and its stop failed (exit 2) only to wait at exit."""
    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / part).write_text("")
    run = RunProcess(slack, settings.home, tmp_path / "logs", http_port=free_port())
    try:
        assert await run.exit_code(timeout=30) == 2, run.stderr()
    finally:
        run.kill()
    (line,) = run.log_lines()
    assert line["event"] == "exit_error", line
    assert line["message"] == (
        f"cannot use SIGNOFF_HOME {settings.home}: {settings.home / part} is not a directory"
    )
    assert slack.sockets() == []
