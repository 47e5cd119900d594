"""The governance chaos run's people, tools and audit (``test_chaos_governance.py``).

Alice asks for two real gated tools (``chaos_tools``: the ``ledger`` command tool and the
MCP server's ``restart_deployment``), each needing both Bob and Carol (quorum 2), reminded
and escalated within seconds, valid for a few seconds once approved. Bob and Carol approve,
edit (Edit & approve: an edit is its author's vote and resets the quorum) and now and then
deny; an operator turns the kill switch on and off. What the tools wrote down is what ran.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from chaos_audit import Audit
from chaos_people import People, Posted
from chaos_reading import approval_dirs, read_json, read_jsonl
from chaos_tools import LEDGER_TOOL, MCP_TOOL, ToolEffects
from signoff_e2e_kit import BOT_USER, OPS, approval_id_of, stale_click

from bot.card_governance import EDIT
from bot.cards import APPROVE, DENY
from bot.edit_modal import EDIT_MODAL
from localslack import ControlError

__all__ = ["GOVERNANCE_POLICY", "GovernancePeople", "audit_governance", "stopped_by_kill_switch"]

APPROVERS = ("U0BOB", "U0CAROL")
_RULE = """\
approvers = ["U0BOB", "U0CAROL"]
quorum = 2
remind_after = "2s"
max_reminders = 2
escalate_after = "5s"
escalate_to = ["S0APPROVERS"]
valid_for = "4s"
"""
GOVERNANCE_POLICY = f"""\
[default]
approvers = ["anyone"]
quorum = 1
allow_self_approval = false
expires_after = "24h"

[tools.{LEDGER_TOOL}]
{_RULE}
[tools.{MCP_TOOL}]
{_RULE}"""
SERVICES = ("api", "web", "worker", "db")


@dataclass
class GovernancePeople(People):
    """Alice asks; Bob and Carol approve, edit or deny; the operator flips the kill switch."""

    kill_switch_flips: int = 0
    edits: int = 0
    acted: dict[str, str] = field(default_factory=dict)  # card ts -> who acted on it last
    # Set after some clicks and edits: the killer then kills within a quarter second, in
    # the steps a decision sets off (votes, the quorum, the edit's card, the claim, the run).
    poke: asyncio.Event = field(default_factory=asyncio.Event)
    first_seen: dict[str, list[Any]] = field(default_factory=dict)  # card ts -> its blocks

    def _request(self) -> tuple[str, bool]:
        rng = self.rng
        if rng.random() < 0.5:
            return f"call {LEDGER_TOOL} note=n{rng.randint(1, 999_999)}", True
        return f"call {MCP_TOOL} deployment={rng.choice(SERVICES)} namespace=prod", True

    async def open_thread(self) -> None:
        text, gated = self._request()
        said = f"<@{BOT_USER}> {text}"
        ts = await self.slack.post_message(channel=OPS, user="U0ALICE", text=said)
        self.threads.append(ts)
        self._wrote(Posted(ts, ts, "U0ALICE", text, gated, mentioned=True))
        self.tally.threads += 1

    def _may_decide(self, capsule: dict[str, Any]) -> list[str]:
        return [u for u in APPROVERS if u not in set(capsule.get("requesters") or ())]

    async def decide_a_card(self) -> bool:
        shown = self._open_cards()
        if not shown:
            self.tally.no_open_card += 1
            return False
        card = self.rng.choice(shown)
        # Mostly the one who did not act on this card last, so quorums complete.
        last = self.acted.get(card["ts"])
        others = [u for u in APPROVERS if u != last]
        user = self.rng.choice(others if self.rng.random() < 0.8 else list(APPROVERS))
        self.acted[card["ts"]] = user
        roll = self.rng.random()
        if roll < 0.35:
            self._spawn(self._edit(card, user))
            return True
        first = self.first_seen.setdefault(card["ts"], card["blocks"])
        if 0.75 <= roll < 0.85 and first != card["blocks"]:
            # Approve as a client still drawing the card from before an edit: refused.
            with contextlib.suppress(ControlError):
                await stale_click(
                    self.slack, ts=card["ts"], user=user, action_id=APPROVE, blocks=first
                )
                self.tally.stale_clicks += 1
        else:
            action = APPROVE if roll < 0.9 else DENY
            await self._click(card, user=user, action=action, reason="governance chaos says no")
        self._maybe_poke()
        return True

    async def _edit(self, card: dict[str, Any], user: str) -> None:
        """Click Edit and submit the modal with new values, if the bot opens it in time."""
        approval = approval_id_of(card)
        capsule = self._capsule(approval)
        if capsule is None:
            return
        if capsule["tool"] == LEDGER_TOOL:
            values: dict[str, dict[str, object]] = {
                "arg:note": {"value": f"n{self.rng.randint(1, 999_999)}"}
            }
        else:
            values = {
                "arg:deployment": {"value": self.rng.choice(SERVICES)},
                "arg:namespace": {"value": "prod"},
            }
        try:
            await self.slack.click_button(channel=OPS, ts=card["ts"], user=user, action_id=EDIT)
        except ControlError:
            return
        for _ in range(80):
            for view in self.slack.open_views(user=user):
                if view.get("private_metadata") == approval and not view["errors"]:
                    with contextlib.suppress(ControlError):
                        await self.slack.submit_view(
                            user=user, view_id=str(view["id"]), callback_id=EDIT_MODAL,
                            values=values,
                        )  # fmt: skip
                        self.edits += 1
                        self._maybe_poke()
                    return
            await asyncio.sleep(0.05)

    def _maybe_poke(self) -> None:
        if self.rng.random() < 0.3:
            self.poke.set()

    async def kill_switch_for_a_while(self) -> None:
        """The operator's kill switch, on for two to eight seconds (approvals meanwhile freeze;
        one lifted more than ``valid_for`` after its approval goes stale)."""
        switch = self.home / "KILL"
        if switch.exists() or not self.home.exists():
            return
        switch.write_text("governance chaos")
        self.kill_switch_flips += 1
        await asyncio.sleep(self.rng.uniform(2.0, 8.0))
        switch.unlink(missing_ok=True)

    async def first_cards(self, count: int = 4) -> None:
        """Open the first threads and wait (bounded) until their cards are up."""
        for _ in range(count):
            await self.open_thread()
        for _ in range(600):
            if len(self._open_cards()) >= count:
                return
            await asyncio.sleep(0.05)

    async def act(self, *, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            await asyncio.sleep(self.rng.uniform(0.05, 0.4))
            roll = self.rng.random()
            if roll < 0.08:
                await self.open_thread()
            elif roll < 0.14:
                self._spawn(self.kill_switch_for_a_while())
            else:
                await self.decide_a_card()
        await self.settle()


def stopped_by_kill_switch(home: Path) -> set[str]:
    """The messages a turn took in and then ended on the kill switch, switched on during it
    (the thread is told it stopped; lifting the switch does not take the turn up again)."""
    stopped: set[str] = set()
    for record in home.glob("sessions/*/sess_*/session.json"):
        session = json.loads(record.read_bytes())
        if (
            session["state"] == "cancelled"
            and session["transitions"][-1]["reason"] == "kill switch"
        ):
            for line in read_jsonl(record.parent / "transcript.jsonl"):
                if line.get("role") == "user":
                    stopped.add(str(line["ts"]))
    return stopped


def _ran(effects: ToolEffects) -> dict[str, list[tuple[dict[str, Any], float | None]]]:
    """What the tools themselves say started, by approval id: (arguments, wall time)."""
    ran: dict[str, list[tuple[dict[str, Any], float | None]]] = {}
    if effects.ledger.exists():
        for line in effects.ledger.read_text().splitlines():
            parts = line.split(" ")
            if len(parts) >= 4 and parts[0] == "start":
                ran.setdefault(parts[1], []).append(({"note": parts[2]}, float(parts[3])))
    for call in read_jsonl(effects.mcp_record):
        if call.get("tool") == "restart_deployment":
            ran.setdefault(str(call.get("approval_id") or "-"), []).append(
                (dict(call.get("arguments") or {}), None)
            )
    return ran


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _check_decided_call(
    out: Audit,
    base: Path,
    capsule: dict[str, Any],
    decision: dict[str, Any],
    starts: list[tuple[dict[str, Any], float | None]],
) -> None:
    """What ran is the call the decision names (the edit's, if edited), and everyone it
    names approved that very call: by a vote for its hash, or by making the edit."""
    aid, n = capsule["id"], int(decision.get("edit") or 0)
    where = f"{aid} {capsule.get('tool')} {capsule.get('arguments')}"
    edit = read_json(base / f"{aid}.edit-{n}.json") if n else None
    call = edit if edit is not None else capsule
    for arguments, _ in starts:
        if arguments != call.get("arguments"):
            out.add("edited_wrong_args", f"{where}: ran {arguments}, decided edit {n}: {call}")
    if decision["verdict"] != "approved":
        return
    if decision.get("args_sha256") != call.get("args_sha256"):
        out.add("edited_wrong_args", f"{where}: decided hash is not edit {n}'s")
    votes = base / (f"{aid}.votes-{n}" if n else f"{aid}.votes")
    approving = {
        str(v["user"])
        for v in (read_json(p) or {} for p in votes.glob("*.json"))
        if v.get("approve") and v.get("args_sha256") == decision.get("args_sha256")
    }
    if edit is not None:
        approving.add(str(edit["user"]))
    for user in decision.get("deciders") or ():
        if user not in approving:
            out.add("edited_wrong_args", f"{where}: {user} decided edit {n} without approving it")


def audit_governance(out: Audit, home: Path, effects: ToolEffects, posts: Counter[str]) -> None:
    """Edited calls ran with their edit, stale ones never, reminders and escalations once.

    ``posts``: how many Slack messages deliver each outbox entry id (from their metadata).
    """
    ran = _ran(effects)
    for kind in ("edited_wrong_args", "stale_ran", "reminder_posts", "frozen_never_ran"):
        out.violations.setdefault(kind, [])
    figures: Counter[str] = Counter()
    for aid, base in approval_dirs(home):
        capsule = read_json(base / f"{aid}.json") or {}
        decision = read_json(base / f"{aid}.decision.json")
        stale = (base / f"{aid}.stale.json").exists()
        figures["stale"] += stale
        where = f"{aid} {capsule.get('tool')} {capsule.get('arguments')}"
        starts = ran.get(aid, [])
        if decision is not None:
            figures["edited_decisions"] += bool(decision.get("edit"))
            _check_decided_call(out, base, capsule, decision, starts)
        if stale and starts:
            out.add("stale_ran", f"{where}: stale, yet the tool started {len(starts)} times")
        until = (decision or {}).get("valid_until")
        for _, at in starts:
            if until and at is not None and at > _epoch(until) + 1.0:
                out.add("stale_ran", f"{where}: started at {at}, valid until {until}")
        figures["ran"] += bool(starts)
        # A reminder or escalation on record is posted once; one a decision overtook before
        # its post was queued is never posted (it would ask for a decision already made).
        decided_at = (decision or {}).get("at")
        for key, name in [(f"remind-{n}", f"reminder-{n}") for n in range(1, 10)] + [
            ("escalate", "escalated")
        ]:
            record = read_json(base / f"{aid}.{name}.json")
            figures["reminders" if key != "escalate" else "escalations"] += record is not None
            sent = posts[f"{key}-{aid}"]
            if (record is None and sent) or sent > 1:
                out.add("reminder_posts", f"{where}: {name} on record {record}, posted {sent}")
            elif record is not None and not sent and decided_at is None:
                out.add("reminder_posts", f"{where}: {name} on record, never posted")
            elif record is not None and decided_at is not None and record["at"] > decided_at:
                out.add("reminder_posts", f"{where}: {name} at {record['at']}, decided earlier")
        told_frozen = posts[f"frozen-{aid}"]
        figures["frozen_told"] += bool(told_frozen)
        if told_frozen and not (starts or stale or (base / f"{aid}.claim.json").exists()):
            out.add("frozen_never_ran", f"{where}: frozen, never run or stale after the switch")
    out.figures.update(figures)
