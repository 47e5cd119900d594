"""Approval as data: capsules, the policy that governs them, and first-wins decisions.

Imports ``sessions`` only. A newcomer following a click reads ``decisions.decide``.
"""

from .authorize import GroupResolver, NoGroups, StaticGroups, authorize
from .capsule import Capsule, args_sha256, build_capsule, load_capsule, write_capsule
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
    finalize,
    load_decision,
    locate,
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
from .records import (
    CardRef,
    Claim,
    Decision,
    ExecutionResult,
    Told,
    Verdict,
    Vote,
    claim,
    read_optional,
    record_path,
    session_of,
    write_pointer,
    write_record,
)
from .scan import approval_row, row_from_disk, scan_session_approvals

__all__ = [
    "SYSTEM",
    "AlreadyClaimedError",
    "AlreadyDecided",
    "AlreadyVoted",
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
    "StaticGroups",
    "Told",
    "Verdict",
    "Vote",
    "VoteCounted",
    "approval_row",
    "args_sha256",
    "authorize",
    "build_capsule",
    "claim",
    "decide",
    "expire",
    "expired",
    "finalize",
    "load_capsule",
    "load_decision",
    "load_policy",
    "locate",
    "parse_duration",
    "read_optional",
    "record_path",
    "row_from_disk",
    "scan_session_approvals",
    "session_of",
    "sweep_expired",
    "write_capsule",
    "write_pointer",
    "write_record",
]
