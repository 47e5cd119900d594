"""What the person who decided is told ephemerally, besides what the card shows.

A click, an edit or a reason from a modal ends in a ``DecisionResult``: refused (and
why), too late (decided already: by whom, and whether that approval went stale), a vote
counted, or decided (then the card says it all). Said the same wherever they clicked: in
the card's thread or on top of their Home tab.
"""

from __future__ import annotations

from approvals import (
    SYSTEM,
    AlreadyDecided,
    AlreadyVoted,
    CannotRun,
    Decided,
    Decision,
    DecisionResult,
    EditRecorded,
    EditResult,
    Refused,
    Stale,
    VoteCounted,
)

from .slack_text import ABSOLUTE, Mrkdwn, escape, join, literal, mentions, parse_utc, slack_date

__all__ = ["CANNOT_READ", "decided_by", "edit_answer", "what_to_tell"]

CANNOT_READ = literal(
    "This request cannot be decided: it failed its integrity check or cannot be read. "
    "An operator can run `signoff verify` to see why."
)


def what_to_tell(result: DecisionResult, *, stale: Stale | None = None) -> Mrkdwn | None:
    """The ephemeral answer to the person who decided (None: the card says it all);
    ``stale``: the approval already made came too late to start."""
    if isinstance(result, Refused) and isinstance(result.reason, CannotRun):
        # Not a verdict on the person: they may still deny it.
        return join(
            literal("You cannot approve this request: "), escape(result.reason), literal(".")
        )
    if isinstance(result, Refused):
        return join(
            literal("You may not decide this request: "), escape(result.reason), literal(".")
        )
    if isinstance(result, AlreadyDecided):
        d = result.decision
        at = slack_date(parse_utc(d.at))
        said = join(literal("Already decided: "), decided_by(d), literal(" · "), at)
        if stale is None:
            return join(said, literal("."))
        # "approved" alone would read as if the call ran.
        deadline = slack_date(parse_utc(stale.valid_until), tokens=ABSOLUTE)
        return join(
            said,
            literal(", but it went stale: it could not start before "),
            deadline,
            literal(" and did not run. A fresh request is needed."),
        )
    if isinstance(result, AlreadyVoted):
        return literal("You already approved this request; it needs someone else too.")
    if isinstance(result, VoteCounted):
        counted = literal(f"Your approval is counted: {result.approvals} of {result.quorum}")
        if result.out_of_reach is None:
            return join(counted, literal("."))
        return join(counted, _out_of_reach(result.out_of_reach))
    assert isinstance(result, Decided)
    return None


def decided_by(decision: Decision) -> Mrkdwn:
    """ "denied by @Bob", "approved by @Bob and @Carol", "denied by signoff (expiry)"."""
    d = decision
    who = literal("signoff (expiry)") if d.deciders == (SYSTEM,) else mentions(d.deciders)
    return join(literal(f"{d.verdict} by "), who)


def edit_answer(result: EditResult) -> Mrkdwn | None:
    """What the editor is told of their edit from the Edit & approve modal."""
    if isinstance(result, EditRecorded):
        counted = literal(
            f"Your edit is recorded and counts as your approval of the edited call "
            f"({result.approvals} of {result.quorum})"
        )
        if result.out_of_reach is not None:
            return join(counted, _out_of_reach(result.out_of_reach))
        return join(
            counted,
            literal(
                "; earlier approvals no longer count, so the others must approve what the "
                "card now shows."
            ),
        )
    return what_to_tell(result)


def _out_of_reach(alone: tuple[str, ...]) -> Mrkdwn:
    """As the card says: no one else's click could complete it."""
    return join(
        literal(", but it cannot be approved under the policy in force: only "),
        mentions(list(alone)) if alone else literal("nobody"),
        literal(" may approve it. It may still be denied, or the policy changed."),
    )
