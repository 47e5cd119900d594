"""Keeping the index in step with the approval files (the files are written first)."""

from __future__ import annotations

from approvals import ApprovalRequest

from .runtime import Runtime

__all__ = ["mirror_approval"]


async def mirror_approval(rt: Runtime, request: ApprovalRequest) -> None:
    await rt.index.put_approvals([request.row()])
