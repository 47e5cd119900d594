"""signoff's storage: session directories a person can ``ls`` and ``cat``.

Imports nothing else of signoff. Everything durable is written through ``atomic``;
``index`` is a rebuildable cache over the files.
"""

from .atomic import (
    append_line,
    canonical_json,
    create_only,
    make_dirs,
    open_regular,
    read_file,
    replace_atomically,
)
from .busy_wait import BUSY_WAIT, busy_wait, busy_wait_from
from .clock import (
    Clock,
    FixedClock,
    SystemClock,
    from_utc_iso,
    readable,
    readable_utc,
    utc_iso,
)
from .config_text import (
    MAX_CONFIG_BYTES,
    check_http_url,
    config_problem,
    parse_json,
    parse_toml,
    read_config_text,
    without_credentials,
)
from .coordination import (
    Coordination,
    DirectoryCoordination,
    DrainerClaim,
    OutboxStore,
    ThreadLocks,
    WorkQueueStore,
    coordination_for,
)
from .disk_room import MIN_ROOM, on_read_only, out_of_room
from .errors import (
    AlreadyExistsError,
    CorruptRecordError,
    IllegalTransitionError,
    IndexDamagedError,
    IndexInUseError,
    InvalidIdError,
    LockBusyError,
    NotFoundError,
    ReadOnlyHomeError,
    SessionsError,
    SignoffError,
    StaleStateError,
)
from .failpoints import POINTS as FAILPOINTS
from .failpoints import failpoint
from .files import SessionFiles
from .home import Home, shard_of, thread_shard
from .home_viewers import HomeViewer, HomeViewers
from .ids import (
    check_approval_id,
    check_quarantine_id,
    check_session_id,
    check_slack_id,
    check_slack_ts,
    new_approval_id,
    new_session_id,
    ts_after,
)
from .inbox import Inbox, InboxMessage
from .inbox_edits import EditOutcome, held_message, revise_message, withdraw_message
from .index import ApprovalRow, Index, SessionRow
from .index_damage import SetAside, index_damage, set_aside_damaged
from .index_read_only import can_write, open_index_read_only
from .jsonl import read_jsonl
from .layout import (
    approval_ids,
    iter_session_dirs,
    migrate_flat_layout,
    session_ids,
    staging_dirs,
)
from .locks import dir_lock, dir_lock_async, file_lock, file_lock_async, try_dir_lock, try_file_lock
from .manifest import VerifyReport, is_sealed, seal, seal_after_crash, verify
from .off_loop import off_loop
from .outbox import Outbox, OutboxDone, OutboxEntry
from .quarantine import Quarantine, QuarantineRecord
from .queue import WorkQueue
from .record_problem import record_problem
from .records import TERMINAL_STATES, Record, SessionRecord, SessionState, ThreadKey, Transition
from .reindex import ApprovalScanner, index_missing, reindex
from .session_seal import verify_session
from .store import SessionStore
from .threads import ThreadDir, iter_thread_keys, lineage
from .tickets import IntentTicket, ResultTicket, Ticket
from .trace import TraceEvent, TraceKind
from .transcript_reference import TranscriptReference

__all__ = [
    "BUSY_WAIT",
    "FAILPOINTS",
    "MAX_CONFIG_BYTES",
    "MIN_ROOM",
    "TERMINAL_STATES",
    "AlreadyExistsError",
    "ApprovalRow",
    "ApprovalScanner",
    "Clock",
    "Coordination",
    "CorruptRecordError",
    "DirectoryCoordination",
    "DrainerClaim",
    "EditOutcome",
    "FixedClock",
    "Home",
    "HomeViewer",
    "HomeViewers",
    "IllegalTransitionError",
    "Inbox",
    "InboxMessage",
    "Index",
    "IndexDamagedError",
    "IndexInUseError",
    "IntentTicket",
    "InvalidIdError",
    "LockBusyError",
    "NotFoundError",
    "Outbox",
    "OutboxDone",
    "OutboxEntry",
    "OutboxStore",
    "Quarantine",
    "QuarantineRecord",
    "ReadOnlyHomeError",
    "Record",
    "ResultTicket",
    "SessionFiles",
    "SessionRecord",
    "SessionRow",
    "SessionState",
    "SessionStore",
    "SessionsError",
    "SetAside",
    "SignoffError",
    "StaleStateError",
    "SystemClock",
    "ThreadDir",
    "ThreadKey",
    "ThreadLocks",
    "Ticket",
    "TraceEvent",
    "TraceKind",
    "TranscriptReference",
    "Transition",
    "VerifyReport",
    "WorkQueue",
    "WorkQueueStore",
    "append_line",
    "approval_ids",
    "busy_wait",
    "busy_wait_from",
    "can_write",
    "canonical_json",
    "check_approval_id",
    "check_http_url",
    "check_quarantine_id",
    "check_session_id",
    "check_slack_id",
    "check_slack_ts",
    "config_problem",
    "coordination_for",
    "create_only",
    "dir_lock",
    "dir_lock_async",
    "failpoint",
    "file_lock",
    "file_lock_async",
    "from_utc_iso",
    "held_message",
    "index_damage",
    "index_missing",
    "is_sealed",
    "iter_session_dirs",
    "iter_thread_keys",
    "lineage",
    "make_dirs",
    "migrate_flat_layout",
    "new_approval_id",
    "new_session_id",
    "off_loop",
    "on_read_only",
    "open_index_read_only",
    "open_regular",
    "out_of_room",
    "parse_json",
    "parse_toml",
    "read_config_text",
    "read_file",
    "read_jsonl",
    "readable",
    "readable_utc",
    "record_problem",
    "reindex",
    "replace_atomically",
    "revise_message",
    "seal",
    "seal_after_crash",
    "session_ids",
    "set_aside_damaged",
    "shard_of",
    "staging_dirs",
    "thread_shard",
    "try_dir_lock",
    "try_file_lock",
    "ts_after",
    "utc_iso",
    "verify",
    "verify_session",
    "withdraw_message",
    "without_credentials",
]
