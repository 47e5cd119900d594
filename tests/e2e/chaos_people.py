"""The people of the chaos test: a seeded script of mentions, follow-ups and clicks.

They act only through LocalSlack's control API, as people in a Slack client would: they
open threads with a mention, write again in a thread once the bot has answered there
(with or without a mention), and click Approve or Deny on the cards they see, once or
twice, whether or not they may decide; a Deny opens a modal, which they submit with a
reason. What they may decide is worked out from the policy the test wrote, not asked of
the bot. The seed fixes every choice; what the choices meet (which cards are open when)
depends on timing, as it would with people.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from chaos_terminal import Kill, decision_on_disk, run_terminal
from chaos_tools import LEDGER_TOOL, MCP_TOOL
from signoff_e2e_kit import BOT_USER, OPS, approval_id_of, cards, has_buttons, stale_click

from bot.cards import APPROVE, DENY
from bot.reason_modal import DENY_MODAL
from localslack import ControlError, LocalSlack

__all__ = ["POLICY", "People", "Posted", "Tally", "ts_key"]

# The members of #ops: they write there and click its cards (an ephemeral answer cannot
# reach someone outside the channel, so outsiders stay out of it).
PEOPLE = ("U0ALICE", "U0BOB", "U0CAROL")
RELEASE = ("U0ALICE", "U0BOB")  # S0APPROVERS in LocalSlack's default workspace
SERVICES = ("api", "web", "worker", "db")

# One approval from anyone but the requester; deploys only from the release group, so a
# click can be refused for not being an approver as well as for being the requester.
POLICY = """\
[default]
approvers = ["anyone"]
quorum = 1
allow_self_approval = false
expires_after = "24h"

[tools.deploy_service]
approvers = ["S0APPROVERS"]
"""


def ts_key(ts: str) -> Decimal:
    return Decimal(ts)


@dataclass(frozen=True)
class Posted:
    """One message a person wrote."""

    thread: str
    ts: str
    user: str
    text: str
    gated: bool
    mentioned: bool


@dataclass
class Tally:
    threads: int = 0
    messages: int = 0  # everything people wrote
    mentions: int = 0  # of which with a mention of the bot
    gated: int = 0  # of which asking for a gated call
    follow_ups: int = 0
    clicks: int = 0
    second_clicks: int = 0
    stale_clicks: int = 0
    not_allowed_clicks: int = 0
    no_open_card: int = 0
    reasons: int = 0
    terminal_decisions: int = 0  # `signoff approve|deny` beside the bot
    terminal_kills: int = 0  # of which SIGKILLed while they ran
    terminal_kills_decided: int = 0  # of those, with the decision on disk (in the call)
    edits: int = 0  # a person edited a follow-up of theirs
    deletions: int = 0  # or deleted it


@dataclass
class People:
    slack: LocalSlack
    home: Path
    rng: random.Random
    # The environment of `signoff approve|deny` from a terminal: the bot's home, policy,
    # model and tools, and no Slack tokens (what it says is queued for the bot).
    terminal_env: dict[str, str] = field(default_factory=dict)
    terminal_failures: list[str] = field(default_factory=list)
    posted: list[Posted] = field(default_factory=list)
    threads: list[str] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    deleted: set[str] = field(default_factory=set)  # the ts of follow-ups their authors deleted
    _later: set[asyncio.Task[None]] = field(default_factory=set)

    # -- what people ask -------------------------------------------------------------------
    def _request(self) -> tuple[str, bool]:
        rng, service = self.rng, self.rng.choice(SERVICES)
        roll = rng.random()
        if roll < 0.35:
            return rng.choice(("status of ", "how is the ")) + service, False
        if roll < 0.42:
            return "help", False
        if roll < 0.67:
            return f"restart {service}", True
        if roll < 0.84:
            version = f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 20)}"
            return f"deploy {service} {version}", True
        if roll < 0.9:
            return f"scale {service} to {rng.randint(1, 9)}", True
        if roll < 0.95:
            return f"call {LEDGER_TOOL} note=n{rng.randint(1, 999_999)}", True
        return f"call {MCP_TOOL} deployment={service} namespace=prod", True

    async def open_thread(self) -> None:
        user = self.rng.choice(PEOPLE)
        text, gated = self._request()
        ts = await self.slack.post_message(channel=OPS, user=user, text=f"<@{BOT_USER}> {text}")
        self.threads.append(ts)
        self._wrote(Posted(ts, ts, user, text, gated, mentioned=True))
        self.tally.threads += 1

    def _answered(self, thread: str) -> bool:
        """Has the bot said something in the thread since its last human message?"""
        messages = self.slack.thread(channel=OPS, ts=thread)
        last_human = max(ts_key(m["ts"]) for m in messages if not m.get("bot_id"))
        return any(m.get("bot_id") and ts_key(m["ts"]) > last_human for m in messages)

    async def follow_up(self) -> bool:
        """Write again in a thread where the bot has answered (False: none has been)."""
        answered = [t for t in self.threads if self._answered(t)]
        if not answered:
            return False
        thread, user = self.rng.choice(answered), self.rng.choice(PEOPLE)
        text, gated = self._request()
        mentioned = self.rng.random() < 0.5
        said = f"<@{BOT_USER}> {text}" if mentioned else text
        ts = await self.slack.post_message(channel=OPS, user=user, text=said, thread_ts=thread)
        self._wrote(Posted(thread, ts, user, text, gated, mentioned))
        self.tally.follow_ups += 1
        return True

    async def change_a_message(self) -> None:
        """A person edits or deletes a recent follow-up of theirs: one still waiting for a
        busy thread is read as edited, or never answered; one read already stays as read."""
        recent = [p for p in self.posted[-30:] if p.ts != p.thread and p.ts not in self.deleted]
        if not recent:
            return
        p = self.rng.choice(recent)
        with contextlib.suppress(ControlError):  # gone meanwhile (its thread deleted)
            if self.rng.random() < 0.5:
                text, _ = self._request()
                said = f"<@{BOT_USER}> {text}" if p.mentioned else text
                await self.slack.edit_message(channel=OPS, user=p.user, ts=p.ts, text=said)
                self.tally.edits += 1
            else:
                await self.slack.delete_message(channel=OPS, user=p.user, ts=p.ts)
                self.deleted.add(p.ts)
                self.tally.deletions += 1

    def _wrote(self, posted: Posted) -> None:
        self.posted.append(posted)
        self.tally.messages += 1
        self.tally.mentions += posted.mentioned
        self.tally.gated += posted.gated

    async def burst(self, size: int, *, new_threads: int) -> None:
        """Several threads at once: new ones and follow-ups, without waiting in between."""
        for _ in range(new_threads):
            await self.open_thread()
        for _ in range(size - new_threads):
            await self.follow_up()

    # -- clicking ----------------------------------------------------------------------------
    def _capsule(self, approval_id: str) -> dict[str, Any] | None:
        try:
            pointer = json.loads(
                (self.home / "approvals" / approval_id[5:7] / approval_id).read_text()
            )
            session = self.home / "sessions" / pointer["session"][5:7] / pointer["session"]
            path = session / "approvals" / f"{approval_id}.json"
            data: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError, KeyError):
            return None
        return data

    def _may_decide(self, capsule: dict[str, Any]) -> list[str]:
        requesters = set(capsule.get("requesters") or [capsule["requester"]])
        pool = RELEASE if capsule["tool"] == "deploy_service" else PEOPLE
        return [u for u in pool if u not in requesters]

    def _open_cards(self) -> list[dict[str, Any]]:
        return [c for t in self.threads for c in cards(self.slack, t) if has_buttons(c)]

    async def click_a_card(self) -> bool:
        shown = self._open_cards()
        if not shown:
            self.tally.no_open_card += 1
            return False
        card = self.rng.choice(shown)
        approval = approval_id_of(card)
        capsule = self._capsule(approval)
        if capsule is None:
            return False
        allowed = self._may_decide(capsule)
        refused = [u for u in PEOPLE if u not in allowed]
        if self.rng.random() < 0.2 or not allowed:
            user = self.rng.choice(refused)
            self.tally.not_allowed_clicks += 1
        else:
            user = self.rng.choice(allowed)
        action = APPROVE if self.rng.random() < 0.6 else DENY
        reason = f"chaos says no ({self.rng.randint(1, 999)})"
        await self._click(card, user=user, action=action, reason=reason)
        if self.rng.random() < 0.35:
            again = self.rng.choice(PEOPLE)
            action = APPROVE if self.rng.random() < 0.6 else DENY
            delay = self.rng.uniform(0.0, 1.5)
            self._spawn(self._click_later(card, again, action, reason, delay))
        return True

    async def _click(self, card: dict[str, Any], *, user: str, action: str, reason: str) -> None:
        """Click as ``user``; a card decided meanwhile is clicked as an old client shows it."""
        live = self.slack.message(channel=OPS, ts=card["ts"])
        try:
            if has_buttons(live):
                await self.slack.click_button(
                    channel=OPS, ts=card["ts"], user=user, action_id=action
                )
            else:
                await stale_click(
                    self.slack, ts=card["ts"], user=user, action_id=action, blocks=card["blocks"]
                )
                self.tally.stale_clicks += 1
        except ControlError:
            return  # the card changed under the click (an update landed): nothing was sent
        self.tally.clicks += 1
        if action == DENY:
            self._spawn(self._give_a_reason(user, approval_id_of(card), reason))

    async def _click_later(
        self, card: dict[str, Any], user: str, action: str, reason: str, delay: float
    ) -> None:
        await asyncio.sleep(delay)
        self.tally.second_clicks += 1
        await self._click(card, user=user, action=action, reason=reason)

    async def _give_a_reason(self, user: str, approval_id: str, reason: str) -> None:
        """Submit the deny modal, if the bot opens one (it does not for who may not deny)."""
        for _ in range(60):
            for view in self.slack.open_views(user=user):
                if view.get("private_metadata") == approval_id:
                    with contextlib.suppress(ControlError):
                        await self.slack.submit_view(
                            user=user,
                            view_id=str(view["id"]),
                            callback_id=DENY_MODAL,
                            values={"reason": {"reason": reason}},
                        )
                        self.tally.reasons += 1
                    return
            await asyncio.sleep(0.05)

    async def decide_in_a_terminal(self) -> bool:
        """An allowed person decides an open card from a terminal while the bot runs (and is
        killed); the command is SIGKILLed itself now and then, mid-way."""
        shown = self._open_cards()
        if not shown or not self.terminal_env:
            return False
        card = self.rng.choice(shown)
        capsule = self._capsule(approval_id_of(card))
        allowed = self._may_decide(capsule) if capsule is not None else []
        if capsule is None or not allowed:
            return False
        args = ["approve", str(capsule["id"]), "--as", self.rng.choice(allowed)]
        if self.rng.random() < 0.4:
            args = ["deny", *args[1:], "--reason", "chaos says no from a terminal"]
        roll = self.rng.random()
        kill: Kill = "early" if roll < 0.25 else "in_call" if roll < 0.5 else None
        self.tally.terminal_decisions += 1
        self._spawn(self._terminal(args, kill, self.rng.random()))
        return True

    async def _terminal(self, args: list[str], kill: Kill, pause: float = 0.0) -> None:
        decided = functools.partial(decision_on_disk, self.home, args[1])
        ended = await run_terminal(args, self.terminal_env, kill=kill, pause=pause, decided=decided)
        if ended.killed and ended.failure is None:
            self.tally.terminal_kills += 1
            self.tally.terminal_kills_decided += ended.decided_before_kill
        if ended.failure is not None:
            self.terminal_failures.append(ended.failure)

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def settle(self) -> None:
        """Wait for the clicks and modals still under way."""
        while self._later:
            await asyncio.gather(*list(self._later), return_exceptions=True)

    # -- the script --------------------------------------------------------------------------
    async def run(self, *, seconds: float, first_burst: int = 10) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        end = start + seconds
        await self.burst(first_burst, new_threads=first_burst)
        while loop.time() < end:
            await asyncio.sleep(self.rng.uniform(0.05, 0.35))
            target = first_burst + (loop.time() - start) / 2.5  # a new thread every 2.5 s
            roll = self.rng.random()
            if roll < 0.06:
                size = self.rng.randint(3, 8)
                fresh = self.rng.randint(0, 2) if len(self.threads) < target else 0
                await self.burst(size, new_threads=fresh)
            elif roll < 0.28:
                if len(self.threads) < target:
                    await self.open_thread()
                else:
                    await self.follow_up()
            elif roll < 0.82:
                await self.click_a_card()
            elif roll < 0.85:
                await self.decide_in_a_terminal()
            elif roll < 0.88:
                await self.change_a_message()
        await self.settle()
