"""The records of an approval that say what it stands for and who approved it: edits and
the votes per edit. A base of ``ApprovalRequest``, which owns them, through
``FollowUpFiles`` (``follow_ups.py``: reminders, escalation and staleness).

Edits form a chain: edit ``n`` names the hash it changed (``base_sha256``), which must be
the hash of edit ``n-1`` (or the capsule's for the first). The call that is current — and
the only one an approval can count for — is the last link, and it is trusted only if
every link hashes to what it says.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sessions import AlreadyExistsError, Clock, Home, ThreadKey, from_utc_iso, make_dirs, utc_iso

from .capsule import Capsule, args_sha256
from .errors import HashMismatchError
from .origin import Origin
from .records import SYSTEM, Decision, Edit, R, Vote, read_optional, vote_key, write_record
from .vote_files import misnamed

__all__ = ["CurrentCall", "GovernedFiles", "after"]

# An approval is not edited, reminded or retried this often; a bound keeps reads finite.
_MAX_SEQUENCE = 10_000


@dataclass(frozen=True)
class CurrentCall:
    """The arguments an approval now stands for: the capsule's, or the last edit's."""

    tool: str
    tool_version: str
    arguments: dict[str, Any]
    args_sha256: str
    edit: int  # 0: as the model asked

    @property
    def short_hash(self) -> str:
        return self.args_sha256[:12]


class GovernedFiles:
    home: Home
    capsule: Capsule
    clock: Clock
    session_dir: Path

    @property
    def id(self) -> str:
        return self.capsule.id

    @property
    def thread(self) -> ThreadKey:
        return self.capsule.thread

    # The names in approvals/ when a scan listed it (reindex): a record not among them
    # is not looked for. None: every read looks.
    listing: frozenset[str] | None = None

    def _name(self, suffix: str) -> str:
        return f"{self.id}.{suffix}.json"

    def _path(self, suffix: str) -> Path:
        return self.session_dir / "approvals" / self._name(suffix)

    def _read(self, suffix: str, model: type[R]) -> R | None:
        name = self._name(suffix)
        if self.listing is not None and name not in self.listing:
            return None
        return read_optional(os.path.join(self.session_dir, "approvals", name), model)

    def _sequence(self, stem: str, model: type[Any]) -> list[Any]:
        found = []
        for n in range(1, _MAX_SEQUENCE):
            record = self._read(f"{stem}-{n}", model)
            if record is None:
                break
            found.append(record)
        return found

    # edits ------------------------------------------------------------------------
    def edits(self) -> list[Edit]:
        """Every edit, oldest first (not checked: ``current`` checks the chain)."""
        return list(self._sequence("edit", Edit))

    def current(self, *, upto: int | None = None) -> CurrentCall:
        """The call this approval now stands for (``upto``: as edit ``upto`` left it, what
        a decision approved, whatever came after); HashMismatchError if a link is broken."""
        c = self.capsule
        call = CurrentCall(c.tool, c.tool_version, c.arguments, c.args_sha256, 0)
        for edit in self.edits():
            if upto is not None and edit.n > upto:
                break
            if edit.n != call.edit + 1 or edit.base_sha256 != call.args_sha256:
                raise HashMismatchError(
                    f"{self.id}: edit {edit.n} does not follow the arguments before it"
                )
            if args_sha256(c.tool, edit.arguments) != edit.args_sha256:
                raise HashMismatchError(
                    f"{self.id}: the arguments of edit {edit.n} no longer hash to "
                    f"{edit.args_sha256[:12]}"
                )
            call = CurrentCall(c.tool, edit.tool_version, edit.arguments, edit.args_sha256, edit.n)
        return call

    def write_edit(self, edit: Edit) -> bool:
        """False when edit ``n`` exists already (someone else edited first)."""
        try:
            write_record(self._path(f"edit-{edit.n}"), edit)
        except AlreadyExistsError:
            return False
        return True

    # votes, per edit --------------------------------------------------------------
    def _votes_dir(self, edit: int) -> Path:
        suffix = "votes" if edit == 0 else f"votes-{edit}"
        return self.session_dir / "approvals" / f"{self.id}.{suffix}"

    def votes(self, edit: int | None = None, *, counting: bool = False) -> list[Vote]:
        """The votes cast for the arguments of ``edit`` (default: the current ones);
        ``counting``: only those whose file's name is what they hold (``vote_files``)."""
        if edit is None:
            edit = len(self.edits())
        directory = self._votes_dir(edit)
        try:
            names = sorted(n for n in directory.iterdir() if n.name.endswith(".json"))
        except FileNotFoundError:
            return []
        found = [
            v
            for n in names
            if (v := read_optional(n, Vote)) is not None
            and not (counting and misnamed(n, v, self.id))
        ]
        return sorted(found, key=lambda v: (v.at, v.user, v.round))

    def write_vote(self, vote: Vote, *, edit: int = 0) -> bool:
        """False when this person's approval by that number is on record already."""
        directory = self._votes_dir(edit)
        make_dirs(directory)  # a vote is only as durable as the names leading to it
        try:
            write_record(directory / f"{vote.key}.json", vote)
        except AlreadyExistsError:
            return False
        return True

    def vote_file_taken(self, key: str, *, edit: int) -> bool:
        """Whether a vote file of that name is on record, whatever it holds."""
        return (self._votes_dir(edit) / f"{key}.json").exists()

    def approvals(self, call: CurrentCall | None = None) -> tuple[str, ...]:
        """Who approved exactly the current arguments: its editor first, then the votes;
        but no approval a later vote found the rules no longer allowed (``discounted``)."""
        return tuple(self.counted(call))

    def counted(self, call: CurrentCall | None = None) -> dict[str, str]:
        """``approvals``, each person with the approval of theirs that counts (its key)."""
        call = call or self.current()
        votes = self.votes(call.edit, counting=True)
        gone = {key for vote in votes for key in vote.discounted}
        given: list[tuple[str, str]] = []
        if call.edit:
            editor = self.edits()[call.edit - 1].user
            given.append((editor, vote_key(editor, 1)))
        for vote in votes:
            voted_for = vote.args_sha256 or self.capsule.args_sha256
            # signoff's own record only ever discounts: one that says it approves was not
            # written by signoff (its file name is accepted after the seal), and counts not.
            if vote.approve and vote.user != SYSTEM and voted_for == call.args_sha256:
                given.append((vote.user, vote.key))
        who: dict[str, str] = {}
        for user, key in given:
            if key not in gone:
                who.setdefault(user, key)
        return who

    def origins(
        self, call: CurrentCall, counted: dict[str, str] | None = None
    ) -> dict[str, Origin]:
        """Where the counted approvals cast from another organization came from, by
        person (everyone else: the installation's, or unknown); ``counted``: the
        ``counted(call)`` the caller read already."""
        counting = {v.key: v.origin for v in self.votes(call.edit, counting=True)}
        if call.edit:  # its author's approval (``counted``), from where the edit was made
            edit = self.edits()[call.edit - 1]
            counting[vote_key(edit.user, 1)] = edit.origin
        return {
            user: origin
            for user, key in (self.counted(call) if counted is None else counted).items()
            if (origin := counting.get(key)) is not None
        }

    def approvals_cast(self, call: CurrentCall) -> int:
        """How many approvals of these arguments were ever recorded (counted or not): one
        more with each, so it names each version of the card a vote makes."""
        return len(self.votes(call.edit)) + (1 if call.edit else 0)

    def reasons(self, decision: Decision) -> list[tuple[str, str]]:
        """(who, why) for each decider who gave a reason, in the deciders' order."""
        edits = self.edits()
        # A decision naming an edit that is not on disk was changed (the audit flags it).
        edit = edits[decision.edit - 1] if 0 < decision.edit <= len(edits) else None
        votes = {v.user: v.reason for v in self.votes(decision.edit, counting=True)}
        found = []
        for who in decision.deciders:
            if who == SYSTEM:
                continue  # an expiry's "reason" is the deadline, not a person's reason
            why = edit.reason if edit is not None and who == edit.user else votes.get(who, "")
            if not why and decision.deciders == (who,):
                why = decision.reason
            if why.strip():
                found.append((who, why.strip()))
        return found


def after(iso: str, seconds: int) -> str:
    """``iso`` plus ``seconds``, in the same format (``utc_iso``)."""
    return utc_iso(from_utc_iso(iso) + timedelta(seconds=seconds))
