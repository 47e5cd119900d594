"""Everything a session run depends on, passed explicitly instead of kept in globals."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from approvals import GroupResolver, NoGroups, Policy
from sessions import (
    Clock,
    Coordination,
    Home,
    Index,
    OutboxStore,
    SessionStore,
    SystemClock,
    coordination_for,
)

from .budgets import Budgets, CostFunction
from .live import LiveView, NullLiveView
from .model import Model
from .observe import NullObserver, Observer
from .stop_marker import StopSignals
from .thread_wait import ThreadWait
from .tools import ToolRegistry

__all__ = ["SYSTEM_PROMPT", "KillSwitchOn", "Runtime"]


class KillSwitchOn(Exception):
    """A control-flow signal: stop before the next model call or tool call."""


SYSTEM_PROMPT = (
    "You are signoff, an operations assistant in a Slack thread. Use the tools to answer. "
    "Some tools change production and wait for a human approval: call them directly and "
    "the runtime asks a person; never ask people to type 'yes'. If a call is denied or "
    "expires, do not retry the same call; explain and offer alternatives. Be brief."
)


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Runtime:
    home: Home
    store: SessionStore
    index: Index
    model: Model
    registry: ToolRegistry
    policy: Policy = field(default_factory=Policy)
    groups: GroupResolver = field(default_factory=NoGroups)
    clock: Clock = field(default_factory=SystemClock)
    budgets: Budgets = field(default_factory=Budgets)
    cost: CostFunction | None = None
    system_prompt: str = SYSTEM_PROMPT
    tool_timeout_seconds: float = 120.0
    # Where the engine reports what happened (logs, metrics); it never raises into a turn.
    observer: Observer = field(default_factory=NullObserver)
    # Called after something was queued for Slack, so delivery need not wait for its poll.
    outbox_written: Callable[[], None] = _nothing
    # This process: a deferred call recorded by another process is retried at once.
    boot: str = field(default_factory=lambda: secrets.token_hex(6))
    # SIGNOFF_APPROVALS_CHANNEL: where a gated call asked in a direct message is decided
    # ("": such calls are refused at the gate; see ``gate_place``).
    approvals_channel: str = ""
    # What the thread shows while a turn runs (status, streamed text); never a record.
    live: LiveView = field(default_factory=NullLiveView)
    # Wakes a turn waiting on the model when a person stops it (the marker is on disk).
    stops: StopSignals = field(default_factory=StopSignals)
    # Who is told when a turn here waits for another process's turn in its thread (a
    # terminal; a bot waits without a word: its threads show their own status).
    thread_wait: ThreadWait | None = None
    # A terminal's tools need not be the bot's (another SIGNOFF_CONFIG): an approved call
    # whose tool is missing or changed here is left to the bot, never refused here.
    tools_elsewhere: bool = False

    @property
    def coordination(self) -> Coordination:
        """Locks, the work queue and the outbox other processes share (``coordination_for``
        picks them for the home, for the engine and ``approvals`` alike)."""
        return coordination_for(self.home)

    @property
    def outbox(self) -> OutboxStore:
        return self.coordination.outbox

    def killed(self) -> bool:
        """The kill switch is a file, re-read before every model call and tool call."""
        return self.home.kill_switch.exists()
