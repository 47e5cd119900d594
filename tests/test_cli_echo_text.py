"""What a terminal command prints of what it queued for Slack is text, every field of it.

``QueuedEcho`` prints what was queued while the command ran: a reply, a notice "(to U…)",
a new card. It printed a notice's recipient, and the error of a card it could not read
(a tampered home names the file), as they were: escapes there set the terminal's title.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from agent_core.engine import Engine
from bot.cli_echo import QueuedEcho
from sessions import Home, OutboxEntry, ThreadKey, coordination_for

ESCAPES = "\x1b]0;PWNED\x07\x1b[2J"


class _NoCapsule:
    """An engine whose capsules cannot be read, as a tampered home's (its error quoted)."""

    def capsule(self, approval_id: str) -> object:
        from sessions import CorruptRecordError

        raise CorruptRecordError(f"approvals/{approval_id}{ESCAPES}: unreadable")


def test_a_notice_and_an_unreadable_card_print_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = Home(tmp_path / "home")
    home.ensure()
    echo = QueuedEcho(home.root)
    thread = ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1700000000.000100")
    outbox = coordination_for(home).outbox
    at = "2026-12-02T00:00:00Z"
    outbox.enqueue(
        OutboxEntry(
            id="notice-1",
            kind="notice",
            thread=thread,
            created_at=at,
            seq=1,
            text="refused",
            user=f"U0BOB{ESCAPES}",
        )
    )
    outbox.enqueue(
        OutboxEntry(
            id="card-appr_0123456789abcdef-requested",
            kind="card",
            thread=thread,
            created_at=at,
            seq=2,
            approval_id="appr_0123456789abcdef",
        )
    )
    echo.print_new(cast(Engine, _NoCapsule()))
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out, repr(out)
    assert "(to U0BOB\\x1b]0;PWNED\\x07" in out and "unreadable" in out, out
