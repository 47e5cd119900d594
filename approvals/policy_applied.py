"""The rules the waiting cards were last shown under (``$SIGNOFF_HOME/policy-applied.json``).

A card is rendered when something happens to its request, with the rules in force then
(the larger quorum of the captured and the current rule, the approvers both allow). A
policy changed across a restart changed none of them: every waiting card kept saying who
could decide and how many approvals it needed under the old rules, until someone clicked.
So a start compares the policy with the one it applied last, and shows again the waiting
cards of each tool whose rule changed (``rules_refresh``: one outbox entry per card and
policy, idempotent across crashes), then records the policy as applied.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Literal

from pydantic import ValidationError

from sessions import Home, Record, read_file, replace_atomically

from .policy import Policy, PolicyRule

__all__ = [
    "RULES",
    "AppliedPolicy",
    "applied_policy",
    "differs_from_applied",
    "record_applied",
    "rules_refresh",
]

log = logging.getLogger("signoff.approvals")

_FILE = "policy-applied.json"
# The card entry that shows a card again under new rules: ``card-<id>-rules-<policy>``.
RULES = "rules-"


class AppliedPolicy(Record):
    schema_version: Literal[1] = 1
    default: PolicyRule
    tools: Mapping[str, PolicyRule]

    def as_policy(self) -> Policy:
        return Policy(default=self.default, tools=dict(self.tools), source=_FILE)


def _of(policy: Policy) -> AppliedPolicy:
    return AppliedPolicy(default=policy.default, tools=dict(policy.tools))


def applied_policy(home: Home) -> Policy | None:
    """The policy the cards were last shown under; None before the first start that
    recorded one (or when its record is unreadable: then nothing is shown again)."""
    try:
        return AppliedPolicy.model_validate_json(read_file(home.root / _FILE)).as_policy()
    except FileNotFoundError:
        return None
    except (OSError, ValidationError, ValueError) as exc:
        log.warning("%s unreadable, waiting cards not compared with it: %s", _FILE, exc)
        return None


def differs_from_applied(home: Home, policy: Policy) -> bool:
    """Are ``policy``'s rules other than those the cards were last shown under? (Not
    before a start recorded any.)"""
    applied = applied_policy(home)
    return applied is not None and _of(applied) != _of(policy)


def record_applied(home: Home, policy: Policy) -> None:
    path = home.root / _FILE
    data = _of(policy).model_dump_json(indent=2).encode()
    try:
        if read_file(path) == data:
            return
    except OSError:
        pass
    replace_atomically(path, data)


def rules_refresh(policy: Policy) -> str:
    """The ``why`` of the card entry that shows a card under ``policy``'s rules."""
    digest = hashlib.sha256(_of(policy).model_dump_json().encode()).hexdigest()
    return f"{RULES}{digest[:12]}"
