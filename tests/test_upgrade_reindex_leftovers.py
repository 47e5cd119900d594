"""``signoff reindex`` killed mid-rebuild (an operator's Ctrl-C, an OOM kill while it
migrates an old home) leaves its half-built index beside the real one; the next reindex,
which runs under the same lock, removes it instead of keeping a dead index per kill."""

from __future__ import annotations

from sessions import Home, reindex


async def test_reindex_removes_the_rebuild_a_killed_reindex_left(home: Home) -> None:
    left = [
        home.root / f"index.sqlite3.rebuild-0badf00d{suffix}" for suffix in ("", "-wal", "-shm")
    ]
    for path in left:
        path.write_bytes(b"x" * 4096)
    await reindex(home)
    assert [p for p in left if p.exists()] == []
    assert home.index_path.exists()
