"""Approval as data: capsules, the policy that governs them, and first-wins decisions.

Imports ``sessions`` only. One approval's whole life is owned by ``ApprovalRequest``
(``request.py``); a newcomer following a click reads ``decisions.record_decision``.
"""

from .authorize import GroupResolver, NoGroups, StaticGroups, authorize
from .capsule import Capsule, args_sha256, build_capsule, capsule_ids, load_capsule
from .decisions import (
    SYSTEM,
    AlreadyDecided,
    AlreadyVoted,
    Decided,
    DecisionResult,
    Refused,
    VoteCounted,
    decide,
    expire,
    expired,
    may_decide,
    record_decision,
    withdraw,
)
from .errors import (
    AlreadyClaimedError,
    ApprovalsError,
    CapsuleError,
    HashMismatchError,
    PolicyError,
)
from .expiry import sweep_expired
from .policy import Policy, PolicyRule, load_policy, parse_duration
from .records import CardRef, Claim, Decision, ExecutionResult, Told, Verdict, Vote
from .request import ApprovalRequest, Stage
from .scan import scan_session_approvals

__all__ = [
    "SYSTEM",
    "AlreadyClaimedError",
    "AlreadyDecided",
    "AlreadyVoted",
    "ApprovalRequest",
    "ApprovalsError",
    "Capsule",
    "CapsuleError",
    "CardRef",
    "Claim",
    "Decided",
    "Decision",
    "DecisionResult",
    "ExecutionResult",
    "GroupResolver",
    "HashMismatchError",
    "NoGroups",
    "Policy",
    "PolicyError",
    "PolicyRule",
    "Refused",
    "Stage",
    "StaticGroups",
    "Told",
    "Verdict",
    "Vote",
    "VoteCounted",
    "args_sha256",
    "authorize",
    "build_capsule",
    "capsule_ids",
    "decide",
    "expire",
    "expired",
    "load_capsule",
    "load_policy",
    "may_decide",
    "parse_duration",
    "record_decision",
    "scan_session_approvals",
    "sweep_expired",
    "withdraw",
]
