"""Who may approve what: a TOML file validated at load, failing closed.

    [default]
    approvers = ["U01ALICE", "S0OPS"]   # Slack user ids (U…/W…) and user-group ids (S…)
    quorum = 1
    allow_self_approval = false
    expires_after = "24h"               # s, m, h or d
    on_expiry = "expire"                # or "deny"

    remind_after = "2h"                 # re-ping the approvers in the thread …
    max_reminders = 3                   # … at most this often (default 3)
    escalate_after = "8h"               # then add these approvers and ping them
    escalate_to = ["S0ONCALL"]
    valid_for = "1h"                    # an approved call must start within this (default:
                                        # no limit); past it the approval is stale
    require_reason = false              # approve and deny both ask for a reason
    allow_edit = true                   # approvers may edit the arguments, then approve

    [tools.deploy_service]
    approvers = ["S0RELEASE"]
    quorum = 2

    [tools.service_status_report]
    approvers = ["anyone"]              # explicitly open; an empty list is an error

A ``[tools.<name>]`` table overrides the default key by key. With no file, a gated tool
needs one approval from anyone except the requester, and expires after 24 hours.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
)

from sessions import config_problem, parse_toml, read_config_text

from .errors import PolicyError

__all__ = ["Policy", "PolicyRule", "load_policy", "parse_duration"]

_USER = re.compile(r"[UW][A-Z0-9]{2,39}")
_GROUP = re.compile(r"S[A-Z0-9]{2,39}")
# [0-9], not \d: that takes any script's digits, which int() reads ("٥d" was five days).
_DURATION = re.compile(r"([0-9]{1,9})\s*([smhd])")  # nine digits: decades, any unit
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_EXPIRY_SECONDS = 365 * 86400
# Said explicitly, so that opening a tool to everyone is never an accident.
ANYONE = "anyone"


def parse_duration(text: str, *, at_most: int | None = MAX_EXPIRY_SECONDS) -> int:
    """``90s``, ``30m``, ``24h``, ``7d`` in seconds; ``at_most`` None: any span (how far
    back an audit looks is not how long a request may wait)."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 30m, 24h, 7d)")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    if at_most is not None and seconds > at_most:
        # Also said of timeouts: no "request"; the limit as written (365d).
        raise ValueError(f"{text!r}: at most {at_most // 86400}d")
    return seconds


class PolicyRule(BaseModel):
    """The rule that applies to one tool; snapshotted into each capsule."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    approver_users: tuple[str, ...] = ()
    approver_groups: tuple[str, ...] = ()
    quorum: int = Field(default=1, ge=1, le=20)
    allow_self_approval: bool = False
    expires_after_seconds: int = Field(default=86400, gt=0, le=MAX_EXPIRY_SECONDS)
    on_expiry: Literal["expire", "deny"] = "expire"
    # Governance beyond the decision itself (reminders, escalation, the second clock).
    remind_after_seconds: int | None = Field(default=None, gt=0, le=MAX_EXPIRY_SECONDS)
    max_reminders: int = Field(default=3, ge=0, le=50)
    escalate_after_seconds: int | None = Field(default=None, gt=0, le=MAX_EXPIRY_SECONDS)
    escalate_users: tuple[str, ...] = ()
    escalate_groups: tuple[str, ...] = ()
    # How long after approval the call may still start; None: no limit.
    valid_for_seconds: int | None = Field(default=None, gt=0, le=MAX_EXPIRY_SECONDS)
    require_reason: bool = False
    allow_edit: bool = True

    @property
    def open_to_anyone(self) -> bool:
        return not self.approver_users and not self.approver_groups

    def describe(self) -> str:
        who = " ".join([*self.approver_users, *self.approver_groups]) or "anyone"
        self_part = "" if self.allow_self_approval else ", not the requester"
        return f"{self.quorum} of {who}{self_part}"


class _RuleInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approvers: list[str] | None = None
    # Strict: "2" or true is no number, "yes" no boolean: refused, never guessed at.
    quorum: StrictInt | None = Field(default=None, ge=1, le=20)
    allow_self_approval: StrictBool | None = None
    expires_after: str | None = None
    on_expiry: Literal["expire", "deny"] | None = None
    remind_after: str | None = None
    max_reminders: StrictInt | None = Field(default=None, ge=0, le=50)
    escalate_after: str | None = None
    escalate_to: list[str] | None = None
    valid_for: str | None = None
    require_reason: StrictBool | None = None
    allow_edit: StrictBool | None = None

    @field_validator("approvers")
    @classmethod
    def _ids(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            # An empty list reads like "nobody" but would mean "anyone": refuse it.
            raise ValueError('an empty approvers list is ambiguous; write ["anyone"] to open it')
        if value == [ANYONE]:
            return value
        for item in value or []:
            if not (_USER.fullmatch(item) or _GROUP.fullmatch(item)):
                raise ValueError(f"{item!r} is not a Slack user id (U…/W…) or user-group id (S…)")
        return value

    @field_validator("escalate_to")
    @classmethod
    def _escalation_ids(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("escalate_to needs at least one Slack user or user-group id")
        for item in value or []:
            if not (_USER.fullmatch(item) or _GROUP.fullmatch(item)):
                raise ValueError(f"{item!r} is not a Slack user id (U…/W…) or user-group id (S…)")
        return value

    @field_validator("expires_after", "remind_after", "escalate_after", "valid_for")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    def apply(self, base: PolicyRule) -> PolicyRule:
        update: dict[str, Any] = {}
        if self.approvers == [ANYONE]:
            update["approver_users"], update["approver_groups"] = (), ()
        elif self.approvers is not None:
            update["approver_users"] = tuple(a for a in self.approvers if _USER.fullmatch(a))
            update["approver_groups"] = tuple(a for a in self.approvers if _GROUP.fullmatch(a))
        if self.quorum is not None:
            update["quorum"] = self.quorum
        if self.allow_self_approval is not None:
            update["allow_self_approval"] = self.allow_self_approval
        if self.expires_after is not None:
            update["expires_after_seconds"] = parse_duration(self.expires_after)
        if self.on_expiry is not None:
            update["on_expiry"] = self.on_expiry
        for key in ("remind_after", "escalate_after", "valid_for"):
            value = getattr(self, key)
            if value is not None:
                update[f"{key}_seconds"] = parse_duration(value)
        if self.escalate_to is not None:
            update["escalate_users"] = tuple(a for a in self.escalate_to if _USER.fullmatch(a))
            update["escalate_groups"] = tuple(a for a in self.escalate_to if _GROUP.fullmatch(a))
        for key in ("max_reminders", "require_reason", "allow_edit"):
            if getattr(self, key) is not None:
                update[key] = getattr(self, key)
        rule = base.model_copy(update=update)
        escalates_to = bool(rule.escalate_users or rule.escalate_groups)
        if rule.escalate_after_seconds is not None and not escalates_to:
            raise ValueError("escalate_after needs escalate_to (whom to add)")
        if escalates_to and rule.escalate_after_seconds is None:
            raise ValueError("escalate_to needs escalate_after (when to escalate)")
        people = {*rule.approver_users, *rule.escalate_users}
        only_people = people and not (rule.approver_groups or rule.escalate_groups)
        if only_people and rule.quorum > len(people):  # no request could ever be approved
            raise ValueError(
                f"quorum {rule.quorum} needs that many approvers; "
                f"approvers and escalate_to name {len(people)}"
            )
        return rule


class _FileInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    default: _RuleInput = Field(default_factory=_RuleInput)
    tools: dict[str, _RuleInput] = Field(default_factory=dict)


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    default: PolicyRule = PolicyRule()
    tools: Mapping[str, PolicyRule] = Field(default_factory=dict)
    source: str = "built-in default"

    def rule_for(self, tool: str) -> PolicyRule:
        return self.tools.get(tool, self.default)

    def check_tools(self, known: set[str]) -> None:
        unknown = sorted(set(self.tools) - known)
        if unknown:
            raise PolicyError(f"{self.source}: policy names unknown tools: {', '.join(unknown)}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str) -> Policy:
        try:
            parsed = _FileInput.model_validate(dict(data))
        except ValidationError as exc:
            raise PolicyError(f"{source}: {config_problem(exc)}") from exc
        try:
            default = parsed.default.apply(PolicyRule())
        except ValueError as exc:
            raise PolicyError(f"{source}: default: {exc}") from exc
        tools: dict[str, PolicyRule] = {}
        for name, rule in parsed.tools.items():
            try:
                tools[name] = rule.apply(default)
            except ValueError as exc:
                raise PolicyError(f"{source}: tools.{name}: {exc}") from exc
        return cls(default=default, tools=tools, source=source)


def load_policy(path: Path | None) -> Policy:
    if path is None:
        return Policy()
    try:
        data = parse_toml(read_config_text(path))
    except FileNotFoundError as exc:
        raise PolicyError(f"policy file not found: {path}") from exc
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except OSError as exc:  # a directory, no permission: the error names the file
        raise PolicyError(f"policy file {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from exc
    except ValueError as exc:  # a FIFO, a device, a file of gigabytes
        raise PolicyError(f"policy file {path}: {exc}") from exc
    return Policy.from_mapping(data, source=str(path))
