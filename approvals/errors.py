"""Errors of the approvals package.

    ApprovalsError
    ├── PolicyError          the policy file is malformed, names unknown keys or bad ids;
    │                        raised at load, so a bad policy stops start-up (fail closed)
    ├── CapsuleError         a capsule that cannot be trusted
    │   └── HashMismatchError    its arguments no longer hash to the recorded SHA-256,
    │                            or the decision approved a different hash
    ├── AlreadyClaimedError  an approved call was already started once (I2)
    └── MembershipUnknown    who is in a group or a channel could not be learned: no answer
                             from Slack just now, or Slack refused the app the lookup
                             (``refused``); whoever needed it fails closed

Outcomes that are normal answers — unauthorized clicker, already decided, vote counted —
are not errors: they are ``DecisionResult`` values.
"""

from __future__ import annotations

from sessions import SignoffError

__all__ = [
    "AlreadyClaimedError",
    "ApprovalsError",
    "CapsuleError",
    "HashMismatchError",
    "MembershipUnknown",
    "PolicyError",
]


class ApprovalsError(SignoffError):
    pass


class PolicyError(ApprovalsError, ValueError):
    pass


class CapsuleError(ApprovalsError):
    pass


class HashMismatchError(CapsuleError):
    pass


class AlreadyClaimedError(ApprovalsError):
    pass


class MembershipUnknown(ApprovalsError):
    """``refused``: Slack's answer when it refused the app the lookup itself (a scope the
    install lacks, a revoked token), which trying again does not clear; "" when Slack gave
    no usable answer (a dropped connection, an outage), which it may."""

    def __init__(self, *args: object, refused: str = "") -> None:
        super().__init__(*args)
        self.refused = refused
