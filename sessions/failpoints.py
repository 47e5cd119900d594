"""Named crash points for the crash-safety tests.

``SIGNOFF_FAILPOINT=<name>`` makes the process SIGKILL itself when it reaches that
point: no cleanup, no flush, exactly what a power cut or OOM kill leaves behind. Unset
(always, in production) the check is one dictionary look-up.
"""

from __future__ import annotations

import os
import signal

__all__ = ["POINTS", "failpoint"]

POINTS = (
    "ingest.after_tmp_write",
    "ingest.after_link",
    "drain.after_session_created",
    "drain.after_child_created",
    "recovery.after_close",
    "drain.after_message_recorded",
    "inbox.after_taken",
    "loop.after_assistant_recorded",
    "executor.after_intent",
    "executor.after_tool_call",
    "gate.after_capsule",
    "gate.after_park",
    "card.after_post",
    "form.after_taken",
    "decision.after_decision_file",
    "resume.after_claim",
    "resume.after_tool_run",
    "resume.after_result_record",
    "resume.after_told_record",
    "loop.before_finish",
)


def failpoint(name: str) -> None:
    if os.environ.get("SIGNOFF_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
