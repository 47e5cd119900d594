"""Approval as data: capsules, the policy that governs them, and first-wins decisions.

Imports ``sessions`` only. One approval's whole life is owned by ``ApprovalRequest``
(``request.py``); a newcomer following a click reads ``decisions.record_decision``.
"""

from .authorize import (
    GroupResolver,
    NoGroups,
    Outside,
    StaticGroups,
    Unchecked,
    authorize,
    what_helps,
)
from .capsule import Capsule, args_sha256, build_capsule, capsule_ids, load_capsule
from .decision_checks import (
    approvers_of,
    escalated_of,
    escalation_to_come,
    expired,
    may_decide,
    quorum_of,
    self_approval_of,
    valid_for_of,
)
from .decisions import (
    SYSTEM,
    AlreadyDecided,
    AlreadyVoted,
    Decided,
    DecisionResult,
    Refused,
    VoteCounted,
    decide,
    expire_due,
    record_decision,
    withdraw,
)
from .edits import EDITED_MEANWHILE, Change, EditRecorded, EditResult, changes, record_edit
from .errors import (
    AlreadyClaimedError,
    ApprovalsError,
    CapsuleError,
    HashMismatchError,
    MembershipUnknown,
    PolicyError,
)
from .expiry import sweep_expired
from .governance import (
    Escalated,
    QuorumCompleted,
    Reminded,
    Step,
    fire_due,
    overtaken,
    sweep_timers,
)
from .governed import CurrentCall
from .origin import Installation, Origin
from .outcomes import CannotRun
from .policy import Policy, PolicyRule, load_policy, parse_duration
from .reachable import short_of_quorum, unreachable_quorum
from .read_once import read_once
from .records import (
    CardRef,
    Claim,
    Decision,
    Deferral,
    Edit,
    Escalation,
    ExecutionResult,
    Reminder,
    Stale,
    Told,
    Verdict,
    Vote,
)
from .request import ApprovalRequest, Stage, card_entry_id
from .scan import scan_session_approvals
from .timers import Timers

__all__ = [
    "EDITED_MEANWHILE",
    "SYSTEM",
    "AlreadyClaimedError",
    "AlreadyDecided",
    "AlreadyVoted",
    "ApprovalRequest",
    "ApprovalsError",
    "CannotRun",
    "Capsule",
    "CapsuleError",
    "CardRef",
    "Change",
    "Claim",
    "CurrentCall",
    "Decided",
    "Decision",
    "DecisionResult",
    "Deferral",
    "Edit",
    "EditRecorded",
    "EditResult",
    "Escalated",
    "Escalation",
    "ExecutionResult",
    "GroupResolver",
    "HashMismatchError",
    "Installation",
    "MembershipUnknown",
    "NoGroups",
    "Origin",
    "Outside",
    "Policy",
    "PolicyError",
    "PolicyRule",
    "QuorumCompleted",
    "Refused",
    "Reminded",
    "Reminder",
    "Stage",
    "Stale",
    "StaticGroups",
    "Step",
    "Timers",
    "Told",
    "Unchecked",
    "Verdict",
    "Vote",
    "VoteCounted",
    "approvers_of",
    "args_sha256",
    "authorize",
    "build_capsule",
    "capsule_ids",
    "card_entry_id",
    "changes",
    "decide",
    "escalated_of",
    "escalation_to_come",
    "expire_due",
    "expired",
    "fire_due",
    "load_capsule",
    "load_policy",
    "may_decide",
    "overtaken",
    "parse_duration",
    "quorum_of",
    "read_once",
    "record_decision",
    "record_edit",
    "scan_session_approvals",
    "self_approval_of",
    "short_of_quorum",
    "sweep_expired",
    "sweep_timers",
    "unreachable_quorum",
    "valid_for_of",
    "what_helps",
    "withdraw",
]
