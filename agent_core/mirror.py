"""Keeping the index in step with the approval files (the files are written first)."""

from __future__ import annotations

from approvals import Told, locate, record_path, row_from_disk, write_record
from sessions import AlreadyExistsError, utc_iso

from .runtime import Runtime

__all__ = ["mark_told", "mirror_approval"]


async def mirror_approval(rt: Runtime, approval_id: str) -> None:
    session_dir, capsule = locate(rt.home, approval_id)
    await rt.index.put_approvals([row_from_disk(session_dir, capsule)])


async def mark_told(rt: Runtime, approval_id: str, session_id: str) -> None:
    session_dir, _ = locate(rt.home, approval_id)
    told = Told(approval_id=approval_id, session_id=session_id, at=utc_iso(rt.clock.now()))
    try:
        write_record(record_path(session_dir, approval_id, "told"), told)
    except AlreadyExistsError:
        pass
    await mirror_approval(rt, approval_id)
