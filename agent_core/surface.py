"""Where the engine speaks: the Slack bot implements this, the demo prints it.

Every method must be safe to call again after a crash (at-least-once): posting a reply
twice is tolerable, losing it is not. ``post_card`` returns where the card landed so
that a decision days later can update it without a ``response_url``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from approvals import Capsule, CardRef, Decision
from sessions import ThreadKey

__all__ = ["RecordingSurface", "Surface", "TerminalSurface"]


class Surface(Protocol):
    async def reply(self, thread: ThreadKey, text: str) -> None: ...

    async def post_card(self, capsule: Capsule) -> CardRef | None: ...

    async def update_card(self, capsule: Capsule, decision: Decision, card: CardRef) -> None: ...


@dataclass
class RecordingSurface:
    """Keeps everything said, for tests and the terminal demo."""

    replies: list[tuple[ThreadKey, str]] = field(default_factory=list)
    cards: list[Capsule] = field(default_factory=list)
    updates: list[tuple[str, Decision]] = field(default_factory=list)
    echo: bool = False

    async def reply(self, thread: ThreadKey, text: str) -> None:
        self.replies.append((thread, text))
        if self.echo:
            print(f"  signoff › {text}")

    async def post_card(self, capsule: Capsule) -> CardRef | None:
        self.cards.append(capsule)
        if self.echo:
            args = ", ".join(f"{k}={v!r}" for k, v in capsule.arguments.items())
            print(
                f"  ┌ approval needed: {capsule.tool}({args})  hash {capsule.short_hash}\n"
                f"  │ asked by {capsule.requester}; {capsule.policy.describe()}\n"
                f"  └ expires {capsule.expires_at}   [Approve] [Deny]   id {capsule.id}"
            )
        ts = f"{1700000000 + len(self.cards)}.000100"
        return CardRef(
            approval_id=capsule.id,
            channel=capsule.thread.channel,
            ts=ts,
            args_sha256=capsule.args_sha256,
        )

    async def update_card(self, capsule: Capsule, decision: Decision, card: CardRef) -> None:
        self.updates.append((capsule.id, decision))
        if self.echo:
            who = ", ".join(decision.deciders)
            print(f"  ┌ card {capsule.id} locked: {decision.verdict} by {who} at {decision.at}")


class TerminalSurface(RecordingSurface):
    """The CLI without Slack: prints everything, and posts no card anywhere.

    ``post_card`` returns None, so no card is recorded as posted: if a bot later runs on
    the same home, its sweep posts the card to Slack for real.
    """

    def __init__(self) -> None:
        super().__init__(echo=True)

    async def post_card(self, capsule: Capsule) -> CardRef | None:
        await super().post_card(capsule)
        return None
