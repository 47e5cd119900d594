"""Unit tests for the approval policy file and for approval capsules."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from engine_support import THREAD

from approvals import (
    Capsule,
    CapsuleError,
    HashMismatchError,
    Policy,
    PolicyError,
    PolicyRule,
    args_sha256,
    build_capsule,
    load_capsule,
    load_policy,
    parse_duration,
)
from approvals.capsule import write_capsule
from sessions import (
    AlreadyExistsError,
    CorruptRecordError,
    FixedClock,
    Home,
    InvalidIdError,
    NotFoundError,
    SessionStore,
    canonical_json,
)


def _policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


# policy: defaults and a full file -------------------------------------------------------
def test_no_file_means_built_in_defaults() -> None:
    policy = load_policy(None)
    rule = policy.rule_for("restart_service")
    assert rule == policy.default
    assert rule.quorum == 1
    assert rule.allow_self_approval is False
    assert rule.expires_after_seconds == 24 * 3600
    assert rule.on_expiry == "expire"
    assert rule.open_to_anyone
    assert policy.source == "built-in default"
    assert dict(policy.tools) == {}


def test_an_empty_file_is_the_defaults(tmp_path: Path) -> None:
    policy = load_policy(_policy_file(tmp_path, ""))
    assert policy.default == PolicyRule()
    assert policy.source == str(tmp_path / "policy.toml")


FULL = """
schema_version = 1

[default]
approvers = ["U01ALICE", "W02BOB", "S0OPS"]
quorum = 1
allow_self_approval = true
expires_after = "12h"
on_expiry = "deny"

[tools.deploy_service]
approvers = ["S0RELEASE", "U03CAROL"]
quorum = 2

[tools.restart_service]
expires_after = "30m"
on_expiry = "expire"

[tools.read_logs]
allow_self_approval = false
"""


def test_full_file_merges_tool_tables_key_by_key(tmp_path: Path) -> None:
    policy = load_policy(_policy_file(tmp_path, FULL))
    default = policy.default
    assert default == PolicyRule(
        approver_users=("U01ALICE", "W02BOB"),
        approver_groups=("S0OPS",),
        quorum=1,
        allow_self_approval=True,
        expires_after_seconds=12 * 3600,
        on_expiry="deny",
    )
    assert policy.rule_for("deploy_service") == PolicyRule(
        approver_users=("U03CAROL",),
        approver_groups=("S0RELEASE",),
        quorum=2,
        allow_self_approval=True,
        expires_after_seconds=12 * 3600,
        on_expiry="deny",
    )
    assert policy.rule_for("restart_service") == default.model_copy(
        update={"expires_after_seconds": 1800, "on_expiry": "expire"}
    )
    assert policy.rule_for("read_logs") == default.model_copy(update={"allow_self_approval": False})
    # A tool the file does not name gets the default.
    assert policy.rule_for("service_status") == default
    assert set(policy.tools) == {"deploy_service", "restart_service", "read_logs"}


def test_a_tool_table_can_open_a_tool_to_anyone(tmp_path: Path) -> None:
    policy = load_policy(
        _policy_file(
            tmp_path, '[default]\napprovers = ["U01ALICE"]\n[tools.ping]\napprovers = ["anyone"]\n'
        )
    )
    assert not policy.default.open_to_anyone
    assert policy.rule_for("ping").open_to_anyone
    with pytest.raises(PolicyError, match="empty approvers list is ambiguous"):
        load_policy(_policy_file(tmp_path, "[tools.ping]\napprovers = []\n"))


# policy: errors -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bogus = 1\n", "bogus"),
        ("[defaults]\nquorum = 2\n", "defaults"),
        ("[default]\napprover = ['U01ALICE']\n", "default.approver"),
        ("[default]\nquorom = 2\n", "default.quorom"),
        ("[tools.deploy_service]\nquorom = 2\n", "tools.deploy_service.quorom"),
        ("[tools.deploy_service]\nexpires = '1h'\n", "tools.deploy_service.expires"),
        ("schema_version = 2\n", "schema_version"),
    ],
)
def test_unknown_keys_are_errors_naming_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = _policy_file(tmp_path, text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ('["alice"]', "default.approvers"),
        ('["U123lower"]', "default.approvers"),
        ('["C0CHAN"]', "default.approvers"),
        ('["U01ALICE", "T0TEAM"]', "default.approvers"),
        ('["<@U01ALICE>"]', "default.approvers"),
        ('["U1"]', "default.approvers"),
        ('["U01ALICE "]', "default.approvers"),
        ('"U01ALICE"', "default.approvers"),
    ],
)
def test_bad_approver_ids_are_rejected(tmp_path: Path, value: str, where: str) -> None:
    with pytest.raises(PolicyError, match=where):
        load_policy(_policy_file(tmp_path, f"[default]\napprovers = {value}\n"))


def test_bad_approver_in_a_tool_table_names_the_value(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"tools\.deploy_service\.approvers.*'alice'"):
        load_policy(_policy_file(tmp_path, '[tools.deploy_service]\napprovers = ["alice"]\n'))


@pytest.mark.parametrize("quorum", [0, 21, -1])
@pytest.mark.parametrize("table", ["default", "tools.deploy_service"])
def test_quorum_out_of_range(tmp_path: Path, table: str, quorum: int) -> None:
    with pytest.raises(PolicyError, match=rf"{table}\.quorum"):
        load_policy(_policy_file(tmp_path, f"[{table}]\nquorum = {quorum}\n"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Three approvals from the one person named: no request could ever be approved.
        ('[default]\napprovers = ["U01ALICE"]\nquorum = 3\n', "quorum 3 needs"),
        ('[tools.ping]\napprovers = ["U01ALICE", "U02BOB"]\nquorum = 3\n', "tools.ping: quorum"),
        ('[default]\nallow_self_approval = "yes"\n', "default.allow_self_approval"),
        # A string, a float or a boolean for a number was taken: "2" as 2, true as 1.
        ('[default]\nquorum = "2"\n', "default.quorum"),
        ("[tools.ping]\nquorum = true\n", "tools.ping.quorum"),
        ("[default]\nmax_reminders = 2.0\n", "default.max_reminders"),
    ],
)
def test_a_rule_no_request_could_pass_or_a_string_for_a_boolean_is_an_error(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(PolicyError, match=expected):
        load_policy(_policy_file(tmp_path, text))
    # A user group may hold any number of people: then a quorum is not checked here.
    with_group = '[default]\napprovers = ["U01ALICE", "S0ONCALL"]\nquorum = 3\n'
    assert load_policy(_policy_file(tmp_path, with_group)).default.quorum == 3


@pytest.mark.parametrize("quorum", [1, 20])
def test_quorum_bounds_are_inclusive(tmp_path: Path, quorum: int) -> None:
    policy = load_policy(_policy_file(tmp_path, f"[default]\nquorum = {quorum}\n"))
    assert policy.default.quorum == quorum


@pytest.mark.parametrize("value", ['"10"', '"5x"', '"0m"', '"0s"', '"-5m"', '"1.5h"', '""', "10"])
@pytest.mark.parametrize("table", ["default", "tools.restart_service"])
def test_bad_durations(tmp_path: Path, table: str, value: str) -> None:
    with pytest.raises(PolicyError, match=rf"{table}\.expires_after"):
        load_policy(_policy_file(tmp_path, f"[{table}]\nexpires_after = {value}\n"))


def test_an_absurd_duration_is_rejected_at_load(tmp_path: Path) -> None:
    path = _policy_file(tmp_path, '[default]\nexpires_after = "9999999d"\n')
    with pytest.raises(PolicyError, match="at most 365d"):
        load_policy(path)
    longest = load_policy(_policy_file(tmp_path, '[default]\nexpires_after = "365d"\n'))
    _capsule(longest.default, session_id="sess_0123456789ab")  # still buildable


@pytest.mark.parametrize("value", ['"never"', '"approve"', '"Expire"', "true"])
def test_bad_on_expiry(tmp_path: Path, value: str) -> None:
    with pytest.raises(PolicyError, match=r"default\.on_expiry"):
        load_policy(_policy_file(tmp_path, f"[default]\non_expiry = {value}\n"))


@pytest.mark.parametrize(
    "text",
    [
        "[default\nquorum = 1\n",
        "quorum = = 2\n",
        "{ not toml }",
        "[default]\nquorum = 1\nquorum = 2\n",
    ],
)
def test_non_toml_text(tmp_path: Path, text: str) -> None:
    path = _policy_file(tmp_path, text)
    with pytest.raises(PolicyError, match="not valid TOML") as info:
        load_policy(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="policy file not found"):
        load_policy(tmp_path / "nope.toml")


def test_policy_error_is_a_value_error() -> None:
    assert issubclass(PolicyError, ValueError)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 604800), (" 5m ", 300), ("1 h", 3600)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["10", "5x", "0m", "m", "1.5h", "-1h", "1h30m", "", "1H"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_check_tools_rejects_unknown_tool_names(tmp_path: Path) -> None:
    path = _policy_file(tmp_path, FULL)
    policy = load_policy(path)
    policy.check_tools({"deploy_service", "restart_service", "read_logs", "service_status"})
    with pytest.raises(PolicyError, match="unknown tools: deploy_service, read_logs") as info:
        policy.check_tools({"restart_service", "service_status"})
    assert str(path) in str(info.value)
    Policy().check_tools(set())


def test_policy_rule_describe() -> None:
    assert PolicyRule().describe() == "1 of anyone, not the requester"
    assert (
        PolicyRule(
            approver_users=("U01ALICE", "W02BOB"),
            approver_groups=("S0OPS",),
            quorum=2,
            allow_self_approval=True,
        ).describe()
        == "2 of U01ALICE W02BOB S0OPS"
    )
    assert PolicyRule(approver_groups=("S0OPS",)).describe() == "1 of S0OPS, not the requester"


def test_policy_rule_validates_itself() -> None:
    with pytest.raises(ValueError, match="quorum"):
        PolicyRule(quorum=0)
    with pytest.raises(ValueError, match="expires_after_seconds"):
        PolicyRule(expires_after_seconds=0)
    with pytest.raises(ValueError, match="unknown_key"):
        PolicyRule.model_validate({"unknown_key": 1})


# capsules -------------------------------------------------------------------------------
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _capsule(
    rule: PolicyRule | None = None,
    *,
    session_id: str,
    arguments: dict[str, Any] | None = None,
    **kw: Any,
) -> Capsule:
    return build_capsule(
        session_id=session_id,
        thread=THREAD,
        call_id="call_1",
        tool=kw.pop("tool", "restart_service"),
        tool_version="1",
        arguments=arguments if arguments is not None else {"service": "api", "force": False},
        requester="U0ALICE",
        reason="it is stuck",
        policy=rule or PolicyRule(),
        now=NOW,
        **kw,
    )


def _session_dir(home: Home, clock: FixedClock) -> Path:
    record = SessionStore(home, clock=clock).create(
        thread=THREAD, parent_id=None, cause="message", session_md="#\n"
    )
    directory = home.session_dir(record.id)
    (directory / "approvals").mkdir()  # as the session's first request does
    return directory


def test_args_sha256_is_over_canonical_json() -> None:
    arguments = {"service": "api", "opts": {"b": 2, "a": [1, "x"]}}
    expected = hashlib.sha256(
        b'{"arguments":{"opts":{"a":[1,"x"],"b":2},"service":"api"},"tool":"restart_service"}'
    ).hexdigest()
    assert args_sha256("restart_service", arguments) == expected
    assert (
        canonical_json({"tool": "restart_service", "arguments": arguments}).encode()
        == b'{"arguments":{"opts":{"a":[1,"x"],"b":2},"service":"api"},"tool":"restart_service"}'
    )


def test_key_order_does_not_change_the_hash_but_values_do() -> None:
    one = args_sha256("deploy", {"service": "api", "version": "1.2", "opts": {"x": 1, "y": 2}})
    same = args_sha256("deploy", {"opts": {"y": 2, "x": 1}, "version": "1.2", "service": "api"})
    assert one == same
    assert one != args_sha256(
        "deploy", {"service": "api", "version": "1.3", "opts": {"x": 1, "y": 2}}
    )
    assert one != args_sha256("deploy", {"service": "api", "version": "1.2", "opts": {"x": 1}})
    assert one != args_sha256(
        "rollback", {"service": "api", "version": "1.2", "opts": {"x": 1, "y": 2}}
    )
    assert args_sha256("t", {"n": 1}) != args_sha256("t", {"n": "1"})
    assert args_sha256("t", {"l": [1, 2]}) != args_sha256("t", {"l": [2, 1]})


def test_build_capsule_fills_in_hash_times_and_batch() -> None:
    rule = PolicyRule(expires_after_seconds=1800, approver_users=("U0BOB",))
    capsule = _capsule(rule, session_id="sess_0123456789ab")
    assert capsule.args_sha256 == args_sha256("restart_service", {"service": "api", "force": False})
    assert capsule.short_hash == capsule.args_sha256[:12]
    assert capsule.created_at == "2026-11-02T09:00:00.000Z"
    assert capsule.expires_at == "2026-11-02T09:30:00.000Z"
    assert capsule.batch == (capsule.id,)
    assert capsule.policy == rule
    assert capsule.schema_version == 1
    capsule.verify_hash()
    other = _capsule(
        session_id="sess_0123456789ab",
        approval_id="appr_00000000000000aa",
        batch=("appr_00000000000000aa", "appr_00000000000000bb"),
    )
    assert other.id == "appr_00000000000000aa"
    assert other.batch == ("appr_00000000000000aa", "appr_00000000000000bb")
    assert _capsule(session_id="sess_0123456789ab").id != capsule.id


def test_capsule_rejects_bad_ids() -> None:
    with pytest.raises(ValueError, match="session id"):
        _capsule(session_id="../sess_0123456789ab")
    with pytest.raises(ValueError, match="approval id"):
        _capsule(session_id="sess_0123456789ab", approval_id="appr_/../../x")


def test_write_is_create_only_and_load_round_trips(home: Home, clock: FixedClock) -> None:
    directory = _session_dir(home, clock)
    capsule = _capsule(session_id=directory.name)
    path = write_capsule(directory, capsule)
    assert path == directory / "approvals" / f"{capsule.id}.json"
    assert path == home.capsule_path(directory.name, capsule.id)
    original = path.read_bytes()
    changed = capsule.model_copy(update={"reason": "overwritten"})
    with pytest.raises(AlreadyExistsError):
        write_capsule(directory, changed)
    assert path.read_bytes() == original
    assert load_capsule(directory, capsule.id) == capsule
    assert json.loads(original)["arguments"] == {"service": "api", "force": False}


def test_load_checks_id_and_session(home: Home, clock: FixedClock) -> None:
    directory = _session_dir(home, clock)
    capsule = _capsule(session_id=directory.name)
    path = write_capsule(directory, capsule)
    # Copied under another approval id.
    renamed = directory / "approvals" / "appr_ffffffffffffffff.json"
    renamed.write_bytes(path.read_bytes())
    with pytest.raises(CapsuleError, match=capsule.id):
        load_capsule(directory, "appr_ffffffffffffffff")
    # Copied into another session.
    elsewhere = _session_dir(home, clock)
    (elsewhere / "approvals" / path.name).write_bytes(path.read_bytes())
    with pytest.raises(CapsuleError, match=directory.name):
        load_capsule(elsewhere, capsule.id)


def test_load_missing_and_malformed_ids(home: Home, clock: FixedClock) -> None:
    directory = _session_dir(home, clock)
    with pytest.raises(NotFoundError):
        load_capsule(directory, "appr_ffffffffffffffff")
    with pytest.raises(InvalidIdError):
        load_capsule(directory, "../../session")


def test_verify_hash_detects_edited_arguments(home: Home, clock: FixedClock) -> None:
    directory = _session_dir(home, clock)
    capsule = _capsule(session_id=directory.name)
    path = write_capsule(directory, capsule)
    data = json.loads(path.read_text())
    data["arguments"]["service"] = "database"
    path.write_text(json.dumps(data))
    edited = load_capsule(directory, capsule.id)
    with pytest.raises(HashMismatchError, match=capsule.short_hash):
        edited.verify_hash()
    # Editing the recorded hash alone is caught as well.
    data = json.loads(path.read_text())
    data["arguments"]["service"] = "api"
    data["args_sha256"] = "0" * 64
    path.write_text(json.dumps(data))
    with pytest.raises(HashMismatchError):
        load_capsule(directory, capsule.id).verify_hash()
    assert issubclass(HashMismatchError, CapsuleError)


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"", b"[]", b'{"schema_version": 1, "id": "appr_ffffffffffffffff"}'],
    ids=["bad-json", "empty", "array", "missing-fields"],
)
def test_malformed_capsule_is_corrupt(home: Home, clock: FixedClock, content: bytes) -> None:
    directory = _session_dir(home, clock)
    (directory / "approvals" / "appr_ffffffffffffffff.json").write_bytes(content)
    with pytest.raises(CorruptRecordError):
        load_capsule(directory, "appr_ffffffffffffffff")


def test_capsule_with_unknown_fields_is_corrupt(home: Home, clock: FixedClock) -> None:
    directory = _session_dir(home, clock)
    capsule = _capsule(session_id=directory.name)
    data = json.loads(capsule.model_dump_json())
    data["run_as_root"] = True
    (directory / "approvals" / f"{capsule.id}.json").write_text(json.dumps(data))
    with pytest.raises(CorruptRecordError):
        load_capsule(directory, capsule.id)
