"""Helpers shared by the end-to-end tests (a uniquely named plain module: pytest puts this
rootless test directory on ``sys.path``, so test files import it by name).

Everything here drives or reads LocalSlack through its control API, or reads what the bot
left on disk (``SIGNOFF_HOME``), never the bot's memory.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest
import yaml

from localslack import ChannelSpec, Delivery, Interaction, LocalSlack, Timing, WorkspaceConfig
from localslack.config import UserSpec

if TYPE_CHECKING:
    from bot.app import SignoffBot

OPS = "C0OPS"
BOT_USER = "U0SIGNOFF"
CARD_TITLE = "Approval needed"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")
TERMINAL = {"completed", "failed", "awaiting_approval", "cancelled"}

# Slack redelivers an envelope not acked within 0.5 s: ample for a local, fsynced store
# (the bot acks after it), even on a loaded machine; tests of redelivery want it quick.
quick_acks = pytest.mark.slack_timing(Timing(ack_timeout=0.5, server_ping_interval=None))


# -- acting --------------------------------------------------------------------------------


async def mention(
    slack: LocalSlack, text: str, *, user: str = "U0ALICE", thread_ts: str | None = None
) -> str:
    return await slack.post_message(
        channel=OPS, user=user, text=f"<@{BOT_USER}> {text}", thread_ts=thread_ts
    )


async def stale_click(
    slack: LocalSlack,
    *,
    ts: str,
    user: str,
    action_id: str,
    blocks: list[dict[str, Any]],
    channel: str = OPS,
) -> Interaction:
    """A click from a client that still renders an older version of the message.

    LocalSlack only clicks buttons the stored message has now, and a decided card has none
    left; real Slack clients can still show (and send) the old card for a moment. So the old
    blocks are put back for the instant LocalSlack builds the payload (synchronously, before
    its first await), then restored unless the bot already replaced them.
    """
    live = slack.workspace.get(channel, ts)
    assert live is not None, f"no message {channel}/{ts}"
    current = live.get("blocks")
    stale = [dict(b) for b in blocks]
    live["blocks"] = stale
    try:
        return await slack.click_button(channel=channel, ts=ts, user=user, action_id=action_id)
    finally:
        if live.get("blocks") is stale:
            if current is None:
                live.pop("blocks", None)
            else:
                live["blocks"] = current


# -- observing Slack -----------------------------------------------------------------------


async def bot_reply(
    slack: LocalSlack, thread: str, contains: str, timeout: float = 10
) -> dict[str, Any]:
    return await slack.wait_for_message(
        channel=OPS, thread_ts=thread, from_bot=True, text_contains=contains, timeout=timeout
    )


async def wait_card(slack: LocalSlack, thread: str, timeout: float = 10) -> dict[str, Any]:
    return await bot_reply(slack, thread, CARD_TITLE, timeout=timeout)


async def ephemeral(
    slack: LocalSlack, user: str, contains: str, timeout: float = 10
) -> dict[str, Any]:
    return await slack.wait_for_ephemeral(user=user, text_contains=contains, timeout=timeout)


async def form_says(
    slack: LocalSlack, user: str, contains: str, timeout: float = 10
) -> dict[str, Any]:
    """The modal open for ``user`` once its text says ``contains``: a submission's answer
    (the ack's ``response_action: update``)."""

    def said() -> list[dict[str, Any]]:
        return [
            v
            for v in slack.open_views(user=user)
            if contains in " ".join(str((b.get("text") or {}).get("text", "")) for b in v["blocks"])
        ]

    views: list[dict[str, Any]] = await until(said, timeout=timeout, what=f"{user}'s form")
    return views[0]


def bot_messages(slack: LocalSlack, thread: str, contains: str = "") -> list[dict[str, Any]]:
    """The bot's replies in a thread (the parent excluded) whose text contains ``contains``."""
    return [
        m
        for m in slack.thread(channel=OPS, ts=thread)
        if m.get("bot_id") and m["ts"] != thread and contains in str(m.get("text", ""))
    ]


def cards(slack: LocalSlack, thread: str) -> list[dict[str, Any]]:
    """Approval cards in the thread, open or decided (a decided card keeps its header)."""
    return [
        m
        for m in bot_messages(slack, thread)
        if any(
            b.get("type") == "header" and CARD_TITLE in b["text"]["text"]
            for b in m.get("blocks") or []
        )
    ]


def has_buttons(message: dict[str, Any] | None) -> bool:
    return message is not None and any(b.get("type") == "actions" for b in message["blocks"])


def approval_id_of(card: dict[str, Any]) -> str:
    values: set[str] = {e["value"] for e in card["blocks"][-1]["elements"]}
    assert len(values) == 1, values
    return next(iter(values))


def outcome_text(message: dict[str, Any] | None) -> str:
    assert message is not None
    return " ".join(
        b["text"]["text"] for b in message["blocks"] if b["block_id"].startswith("outcome-")
    )


def ephemeral_texts(slack: LocalSlack, user: str) -> list[str]:
    return [str(e.get("text", "")) for e in slack.ephemeral_messages(user=user)]


def deliveries_of(slack: LocalSlack, ts: str) -> list[Delivery]:
    """Every envelope Slack sent of the person's message at ``ts``: its ``message`` and
    ``app_mention`` twins, each copy and redelivery."""
    return [
        d
        for d in slack.deliveries(type="events_api")
        if d.payload.get("event", {}).get("ts") == ts
        and d.payload["event"].get("type") in ("message", "app_mention")
    ]


def answered_deliveries(slack: LocalSlack, ts: str) -> bool:
    """Every event of the message at ``ts`` was acked (maybe on a redelivery)."""
    tries = deliveries_of(slack, ts)
    return bool(tries) and all(
        any(d.acked for d in tries if d.event_id == event_id)
        for event_id in {d.event_id for d in tries}
    )


async def until(
    condition: Callable[[], Any], *, timeout: float = 10, every: float = 0.02, what: str = ""
) -> Any:
    """Poll ``condition`` until it returns something truthy (for state on disk)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(every)


async def link_tries(
    slack: LocalSlack, *, after: float, count: int, handshakes: int | None = None
) -> list[float]:
    """When Slack was asked for a link (``apps.connections.open``) from ``after`` on: the
    first ``count`` times, once there are as many; with ``handshakes``, once that many
    WebSocket handshakes were made since localslack started too (a refusal is sent at the
    handshake: after it, what the last ask got is settled)."""

    def tries() -> list[float]:
        return [c.at for c in slack.calls("apps.connections.open") if c.at >= after][:count]

    asked: list[float] = await until(
        lambda: len(tries()) >= count and tries(), timeout=20, what=f"{count} tries"
    )
    if handshakes is not None:
        await slack.wait_for_connections(handshakes, timeout=10)
    return asked


def backing_off(asked: list[float], *, first: float) -> None:
    """Six asks for a link whose pauses were: at once, then ``first``, doubling; never
    sooner. The sixth may be the one that linked: its pause followed the fifth refusal
    all the same, and a test that lets it link need not wait out the pause after it."""
    assert len(asked) == 6, asked
    gaps = [b - a for a, b in itertools.pairwise(asked)]
    for n, gap in enumerate(gaps[1:5]):
        assert gap >= 0.9 * first * 2**n, gaps


async def link_tries_backing_off(slack: LocalSlack, *, after: float, first: float) -> None:
    """Wait for six asks of Slack for a link from ``after`` on, the first of them refused,
    and check their pauses (``backing_off``)."""
    backing_off(await link_tries(slack, after=after, count=6), first=first)


async def linked_and_answering(slack: LocalSlack, bot: SignoffBot, *, sockets: int = 1) -> None:
    """After a refused link: ``sockets`` open (within the longest pause so far), the bot's
    link up, and a mention answered over it."""
    await slack.wait_for_sockets(sockets, timeout=10)
    await until(lambda: bot.handler.client.link_problem() is None, what="the link up")
    thread = await mention(slack, "status of api")
    await slack.wait_for_message(channel=OPS, thread_ts=thread, from_bot=True, timeout=10)


# -- reading the bot's disk ----------------------------------------------------------------


def fleet(home: Path) -> dict[str, Any]:
    path = home / "fleet.json"
    if not path.exists():
        return {"services": {}, "history": []}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def scales(home: Path) -> list[dict[str, Any]]:
    """The fleet's scale actions, oldest first."""
    return [h for h in fleet(home)["history"] if h["action"] == "scale"]


def restarts(home: Path, service: str = "api") -> int:
    return int(fleet(home)["services"].get(service, {}).get("restarts", 0))


def session_path(home: Path, session_id: str) -> Path:
    """A session's directory (docs/storage.md): sharded by the id's first two hex digits."""
    return home / "sessions" / session_id[5:7] / session_id


def pointer_path(home: Path, approval_id: str) -> Path:
    """An approval's pointer file, sharded the same way."""
    return home / "approvals" / approval_id[5:7] / approval_id


# A session's directory as docs/storage.md lays it out: ``sessions/<2 hex>/sess_<12 hex>``.
# Not ``*/sess_*``: that also matches ``.staging/sess_…-<random>``, a half-built session a
# kill may leave (never visible, removed by a later start).
SESSION_DIRS = "sessions/[0-9a-f][0-9a-f]/sess_[0-9a-f]*"


def session_dirs(home: Path) -> list[Path]:
    """Every session directory of ``home``, by id."""
    return sorted(home.glob(SESSION_DIRS), key=lambda p: p.name)


def session_states(home: Path) -> dict[str, str]:
    return {
        p.name: json.loads((p / "session.json").read_text())["state"] for p in session_dirs(home)
    }


def session_record(home: Path, session_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((session_path(home, session_id) / "session.json").read_text())
    return data


def thread_path(home: Path, thread_ts: str, *, team: str = "T0LOCAL", channel: str = OPS) -> Path:
    """A thread's directory, as docs/storage.md lays out a home: ``threads/<team>/<channel>/``,
    then two hex digits of the ``ts``'s CRC-32, then the ``ts``."""
    shard = f"{zlib.crc32(thread_ts.encode()) & 0xFF:02x}"
    return home / "threads" / team / channel / shard / thread_ts


def lineage(home: Path, thread_ts: str, *, team: str = "T0LOCAL", channel: str = OPS) -> list[str]:
    """Session ids of a thread, oldest first, following parent links back from HEAD."""
    head = thread_path(home, thread_ts, team=team, channel=channel) / "HEAD"
    chain: list[str] = []
    current: str | None = head.read_text().strip() if head.exists() else None
    while current:
        chain.append(current)
        current = session_record(home, current)["parent_id"]
    return chain[::-1]


def approvals_dir(home: Path, approval_id: str) -> Path:
    pointer: dict[str, str] = json.loads(pointer_path(home, approval_id).read_text())
    return session_path(home, pointer["session"]) / "approvals"


def decision(home: Path, approval_id: str) -> dict[str, Any] | None:
    path = approvals_dir(home, approval_id) / f"{approval_id}.decision.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def capsule(home: Path, approval_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (approvals_dir(home, approval_id) / f"{approval_id}.json").read_text()
    )
    return data


def card_record(home: Path, approval_id: str) -> dict[str, Any] | None:
    if not pointer_path(home, approval_id).exists():
        return None
    path = approvals_dir(home, approval_id) / f"{approval_id}.card.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


# The records a test reads once it knows they exist: typed without the ``None`` of "not yet".
def existing_decision(home: Path, approval_id: str) -> dict[str, Any]:
    made = decision(home, approval_id)
    assert made is not None, f"no decision recorded for {approval_id}"
    return made


def existing_card_record(home: Path, approval_id: str) -> dict[str, Any]:
    record = card_record(home, approval_id)
    assert record is not None, f"no card recorded for {approval_id}"
    return record


def existing_message(slack: LocalSlack, *, channel: str, ts: str) -> dict[str, Any]:
    message = slack.message(channel=channel, ts=ts)
    assert message is not None, f"no message {ts} in {channel}"
    return message


def inbox_waiting(home: Path) -> list[Path]:
    """Messages stored but not yet recorded in a session, over every thread."""
    return sorted(p for p in (home / "threads").glob("*/*/*/*/inbox/new/[!.]*") if p.is_file())


def inbox_stored(thread_dir: Path, ts: str) -> bool:
    """Is message ``ts`` in the thread's inbox: waiting in ``new/``, or a line of
    ``taken.jsonl`` once recorded in a session?"""
    inbox = thread_dir / "inbox"
    if (inbox / "new" / ts).exists():
        return True
    try:
        lines = (inbox / "taken.jsonl").read_text().splitlines()
    except FileNotFoundError:
        return False
    return any(json.loads(line).get("ts") == ts for line in lines if line.endswith("}"))


async def asked_under(
    slack: LocalSlack,
    start_bot: Callable[..., Awaitable[SignoffBot]],
    policy: Path,
    text: str,
) -> tuple[SignoffBot, str, dict[str, Any], str]:
    """A bot started under ``policy`` and asked ``text`` in a new thread of #ops, once its
    card is posted: (the bot, the thread, the card, its approval id)."""
    bot = await start_bot(policy_path=policy)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, text)
    card = await wait_card(slack, thread)
    return bot, thread, card, approval_id_of(card)


def write_policy(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def clean_env(**extra: str) -> dict[str, str]:
    """A child environment with no proxy (slack_sdk ignores NO_PROXY) and no stray config."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PROXY_VARS
        and "proxy" not in k.lower()
        and not k.startswith(("SIGNOFF_", "SLACK_"))
    }
    # Operator HTTP on an ephemeral port: never the default 9464 another process may hold.
    env.update(
        PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1", SIGNOFF_HTTP="127.0.0.1:0", **extra
    )
    if "PYTHONPATH" in extra and os.environ.get("PYTHONPATH"):
        # A test's tool directory, then the code under test: without it, a checkout other
        # than the installed one ran the installed code in the child.
        env["PYTHONPATH"] = os.pathsep.join([extra["PYTHONPATH"], os.environ["PYTHONPATH"]])
    return env


# -- what signoff cannot read ------------------------------------------------------------


def unreadable_mention(event_id: str, **fields: Any) -> dict[str, Any]:
    """An ``app_mention`` as Slack's reference prints one, with ``fields`` changed, that
    signoff cannot read (a lone surrogate in its text: JSON carries it, no file can)."""
    event = {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": f"<@{BOT_USER}> status of \ud800api",  # JSON carries it; no file can
        "ts": "1900000000.000100",
        "channel": OPS,
        "event_ts": "1900000000.000100",
        **fields,
    }
    return event_callback(event_id, event)


def event_callback(event_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """``event`` in its ``event_callback`` envelope, as Slack's reference prints it."""
    return {
        "token": "legacy",
        "team_id": "T0LOCAL",
        "api_app_id": "A0SIGNOFF",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1515449522,
        "event": event,
    }


async def send_event(slack: LocalSlack, payload: dict[str, Any]) -> None:
    """``payload`` as an ``events_api`` envelope, acked in time."""
    sent = await slack.send_envelope(type="events_api", payload=payload)
    assert not (await slack.wait_for_ack(sent.envelope_id, timeout=5)).timed_out


async def send_ops_event(slack: LocalSlack, event: dict[str, Any], event_id: str) -> None:
    """``event`` of #ops (a channel) in its envelope, as Slack sends it, acked in time."""
    ops = {**event, "channel": OPS, "channel_type": "channel"}
    await send_event(slack, event_callback(event_id, ops))


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The log's records that carry a traceback."""
    return [r.getMessage() for r in caplog.records if r.exc_info]


def told(slack: LocalSlack, dm: str) -> list[dict[str, Any]]:
    """signoff's messages in the direct message ``dm``, oldest first."""
    return [m for m in slack.messages(channel=dm) if m.get("bot_id")]


def senders_told(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The log's lines saying how the sender of an unreadable payload was told."""
    lines = [r.getMessage() for r in caplog.records if r.name == "signoff.socket"]
    return [line for line in lines if line.startswith("the sender of")]


# -- the workspace as manifest.yml declares the app --------------------------------------


def as_in_manifest(config: WorkspaceConfig) -> WorkspaceConfig:
    """``config`` with exactly the scopes, events and App Home settings of manifest.yml, so
    a test fails when the code needs something the manifest does not grant."""
    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text())
    home = manifest["features"]["app_home"]
    tab: Literal["on", "read_only", "off"] = "off"
    if home["messages_tab_enabled"]:
        tab = "read_only" if home["messages_tab_read_only_enabled"] else "on"
    return dataclasses.replace(
        config,
        scopes=tuple(manifest["oauth_config"]["scopes"]["bot"]),
        subscribed_events=tuple(manifest["settings"]["event_subscriptions"]["bot_events"]),
        home_tab_enabled=bool(home["home_tab_enabled"]),
        messages_tab=tab,
    )


GROUP_DM = "G0TRIO"


def with_guest_in_ops(config: WorkspaceConfig, guest: UserSpec) -> WorkspaceConfig:
    """``config`` with #ops shared (Slack Connect) with ``guest``, of another organization."""
    channels = tuple(
        dataclasses.replace(c, members=(*c.members, guest.id)) if c.id == OPS else c
        for c in config.channels
    )
    return dataclasses.replace(config, users=(*config.users, guest), channels=channels)


def with_group_dm(config: WorkspaceConfig) -> WorkspaceConfig:
    """``config`` as the manifest grants, with a group DM of Alice, Bob and signoff."""
    trio = ChannelSpec(
        id=GROUP_DM,
        name="mpdm-alice--bob--signoff-1",
        members=("U0ALICE", "U0BOB", "U0SIGNOFF"),
        is_mpim=True,
    )
    return as_in_manifest(dataclasses.replace(config, channels=(*config.channels, trio)))


def home_texts(view: dict[str, Any] | None) -> str:
    """Every text in a published Home view, joined (for assertions)."""
    if view is None:
        return ""
    out: list[str] = []
    for block in view.get("blocks") or []:
        if "text" in block:
            out.append(str(block["text"]["text"]))
        out.extend(str(f["text"]) for f in block.get("fields") or [])
        out.extend(
            str(e.get("text", "")) for e in block.get("elements") or [] if e.get("type") == "mrkdwn"
        )
    return "\n".join(out)


async def home_of(
    slack: LocalSlack, user: str, *, has: str = "", lacks: str = "", timeout: float = 10
) -> dict[str, Any]:
    """The person's Home once it shows ``has`` and not ``lacks``."""

    def shows(view: dict[str, Any]) -> bool:
        text = home_texts(view)
        return has in text and not (lacks and lacks in text)

    return await slack.wait_for_home_view(shows, user=user, timeout=timeout)


def published_past(slack: LocalSlack, user: str, count: int) -> Callable[[], bool]:
    return lambda: published_for(slack, user) > count


def published_for(slack: LocalSlack, user: str) -> int:
    return sum(1 for c in slack.calls("views.publish") if c.args.get("user_id") == user)


def home_buttons(view: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(action_id, value) of every button in a Home view."""
    if view is None:
        return []
    return [
        (e["action_id"], e.get("value", ""))
        for b in view.get("blocks") or []
        if b.get("type") == "actions"
        for e in b["elements"]
    ]


def quarantined(home: Path) -> list[dict[str, Any]]:
    """What the bot set aside in ``quarantine/``, oldest day first."""
    return [json.loads(p.read_text()) for p in sorted((home / "quarantine").glob("*/*.json"))]


# -- signoff run as a process --------------------------------------------------------------

SIGNOFF = str(Path(sys.executable).with_name("signoff"))


class BotProcess:
    """``signoff run`` in a child process on the demo fleet and the offline model, its
    output in ``logs``; ``env``: more of its environment (a failpoint, say)."""

    def __init__(
        self, slack: LocalSlack, home: Path, logs: Path, policy: Path | None = None, **env: str
    ) -> None:
        full = clean_env(
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_APP_TOKEN=slack.app_token,
            SLACK_API_URL=slack.api_url,
            SIGNOFF_HOME=str(home),
            SIGNOFF_MODEL="offline",
            SIGNOFF_DEMO="1",
            **env,
        )
        if policy is not None:
            full["SIGNOFF_POLICY"] = str(policy)
        self.out = logs / "signoff-run.out"
        with self.out.open("wb") as sink:
            self.proc = subprocess.Popen(
                [SIGNOFF, "run"], env=full, stdout=sink, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def log(self) -> str:
        return self.out.read_text(errors="replace")


# A tool whose one parameter may be null ("every page"), beside strings that look alike.
PURGE_TOOL = '''
from agent_core.tools import tool


@tool(requires_human_approval=True)
def purge_cache(prefix: str | None) -> str:
    """Purge cached pages.

    Args:
        prefix: the pages under this prefix; none for every page
    """
    return "purged"


TOOLS = [purge_cache]
'''


def tool_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, source: str) -> str:
    """``source`` importable as the module ``name`` (for ``start_bot(tool_modules=…)``)."""
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    (tools / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tools))
    return name
