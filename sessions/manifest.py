"""Sealing an ended session and verifying the seal.

``MANIFEST.sha256`` uses the ``sha256sum`` format, so a person can check a session with
``sha256sum -c MANIFEST.sha256`` as well as with ``signoff verify``. Files that exist to
be added after the session ended (decisions and execution records next to a capsule)
may appear later; every file the manifest lists must still match.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from .atomic import replace_atomically

__all__ = ["MANIFEST", "VerifyReport", "seal", "verify"]

MANIFEST = "MANIFEST.sha256"
_SKIP = {MANIFEST, "state.lock"}
# A capsule file: the one thing in approvals/ that must never appear after the seal.
_CAPSULE = re.compile(r"appr_[0-9a-f]{16}\.json")


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(directory: Path) -> list[str]:
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            if name in _SKIP or name.startswith(".tmp-"):
                continue
            found.append(os.path.relpath(os.path.join(root, name), directory))
    return found


def _late_file(relpath: str) -> bool:
    """Records that legitimately arrive after the session ended, next to its capsules."""
    parts = relpath.split(os.sep)
    if parts[0] != "approvals" or len(parts) < 2:
        return False
    return not (len(parts) == 2 and _CAPSULE.fullmatch(parts[1]))


def seal(directory: Path) -> None:
    lines = [f"{_digest(directory / rel)}  {rel}" for rel in _files(directory)]
    replace_atomically(directory / MANIFEST, ("\n".join(lines) + "\n").encode())


class VerifyReport:
    def __init__(self, problems: list[str], sealed: bool) -> None:
        self.problems = problems
        self.sealed = sealed

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(directory: Path) -> VerifyReport:
    manifest = directory / MANIFEST
    if not manifest.exists():
        return VerifyReport([], sealed=False)
    listed: dict[str, str] = {}
    problems: list[str] = []
    for line in manifest.read_text().splitlines():
        if not line.strip():
            continue
        digest, _, rel = line.partition("  ")
        listed[rel] = digest
    for rel, digest in listed.items():
        path = directory / rel
        if not path.exists():
            problems.append(f"missing: {rel}")
        elif _digest(path) != digest:
            problems.append(f"changed: {rel}")
    for rel in _files(directory):
        if rel not in listed and not _late_file(rel):
            problems.append(f"added after seal: {rel}")
    return VerifyReport(problems, sealed=True)
