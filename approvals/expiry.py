"""The expiry sweep: driven by the index, decided on disk, with an injectable clock."""

from __future__ import annotations

from sessions import Clock, Home, Index, NotFoundError, utc_iso

from .decisions import AlreadyDecided, Decided, expire, expired, load_decision, locate

__all__ = ["sweep_expired"]


async def sweep_expired(
    home: Home, index: Index, *, clock: Clock
) -> list[Decided | AlreadyDecided]:
    """Expire every pending request that is due; returns the decisions now on disk.

    A row the index still calls pending may already be decided on disk (the index lags):
    that decision is returned as AlreadyDecided so the caller can finish what a crash
    interrupted (mirror it, update the card, resume).
    """
    now = clock.now()
    out: list[Decided | AlreadyDecided] = []
    for row in await index.approvals(status="pending", due_before=utc_iso(now), limit=1000):
        try:
            session_dir, capsule = locate(home, row.id)
        except NotFoundError:
            continue
        existing = load_decision(session_dir, row.id)
        if existing is not None:
            out.append(AlreadyDecided(capsule, existing))
        elif expired(capsule, now):
            out.append(expire(session_dir, capsule, now=now))
    return out
