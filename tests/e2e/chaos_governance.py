"""The governance chaos run's people, tools and audit (``test_chaos_governance.py``).

Alice asks for two real gated tools (``chaos_tools``: the ``ledger`` command tool, needing
both Bob and Carol, and the MCP server's ``restart_deployment``, needing either), reminded
and escalated within seconds, valid for a few seconds once approved. Bob and Carol approve,
edit (Edit & approve: an edit is its author's vote and resets the quorum) and now and then
deny, on the cards or from a terminal (``signoff approve|deny``, killed mid-way at times); an
operator turns the kill switch on and off. What the tools wrote down is what ran.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from chaos_people import People, Posted
from chaos_tools import LEDGER_TOOL, MCP_TOOL
from signoff_e2e_kit import BOT_USER, OPS, approval_id_of, stale_click

from bot.card_governance import EDIT
from bot.cards import APPROVE, DENY
from bot.edit_modal import EDIT_MODAL
from localslack import ControlError

__all__ = ["GOVERNANCE_POLICY", "GovernancePeople"]

APPROVERS = ("U0BOB", "U0CAROL")
_RULE = """\
approvers = ["U0BOB", "U0CAROL"]
remind_after = "2s"
max_reminders = 2
escalate_after = "5s"
escalate_to = ["S0APPROVERS"]
valid_for = "4s"
"""
# The ledger needs both Bob and Carol; the MCP tool either (an edit alone decides it).
GOVERNANCE_POLICY = f"""\
[default]
approvers = ["anyone"]
quorum = 1
allow_self_approval = false
expires_after = "24h"

[tools.{LEDGER_TOOL}]
{_RULE}quorum = 2

[tools.{MCP_TOOL}]
{_RULE}quorum = 1
"""
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
        if self.rng.random() < 0.2:
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
            elif roll < 0.24:
                # `signoff approve|deny` beside the bot, SIGKILLed mid-way now and then: a
                # vote whose process dies before the decision leaves the quorum to the sweep.
                await self.decide_in_a_terminal()
            else:
                await self.decide_a_card()
        await self.settle()
