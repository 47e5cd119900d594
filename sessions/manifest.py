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
import stat
from pathlib import Path

from .atomic import fsync_dir, fsync_file, open_regular, read_file, replace_atomically

__all__ = ["MANIFEST", "VerifyReport", "is_sealed", "seal", "verify"]

MANIFEST = "MANIFEST.sha256"
_SKIP = {MANIFEST, "state.lock"}
# After the seal only these may appear, and only beside a capsule the manifest lists.
_CAPSULE = re.compile(r"approvals/(appr_[0-9a-f]{16})\.json")
_LATE = re.compile(
    r"(appr_[0-9a-f]{16})\.(?:card|decision|claim|result|told|sealed|escalated|stale"
    r"|(?:deferred|edit|reminder)-[0-9]{1,4})\.json"
)
_VOTE_DIR = re.compile(r"(appr_[0-9a-f]{16})\.votes(?:-[0-9]{1,4})?")
# A vote's file (``Vote.key``): a person's, or signoff's own record of a sweep's discount;
# a person's second approval, or signoff's, has its number after a dot.
_USER_FILE = re.compile(r"(?:[A-Z0-9][A-Z0-9_]{1,39}|signoff)(?:\.[0-9]{1,4})?\.json")
# Written with an fsync of their own before the write returned (``SessionStore.create``,
# ``replace_atomically``, ``append_line``, ``create_only``): the seal need not flush them
# again, and on a real disk each flush is a cache flush of the device.
_SYNCED_WHEN_WRITTEN = re.compile(
    r"SESSION\.md|session\.json|transcript\.jsonl|tickets\.jsonl|approvals/appr_[0-9a-f]{16}\.json"
)


def _digest(path: Path, *, flush: bool = False) -> str:
    h = hashlib.sha256()
    # Never a FIFO or a device swapped in after the caller's look (``open_regular``).
    with open(open_regular(path), "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            h.update(chunk)
        if flush:
            fsync_file(handle.fileno())
    return h.hexdigest()


def _files(directory: Path) -> list[str]:
    """The session's files, as the manifest lists them: regular files only, not a link to
    one. A tool may leave a symlink (dangling, or to a log that keeps growing), a FIFO or a
    socket in its workspace; none is the session's content, and reading one would fail,
    change or never end. Told apart by the directory entries' types (no stat per file)."""
    found: list[str] = []

    def walk(path: str) -> None:
        try:
            with os.scandir(path) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            return  # gone meanwhile, or unreadable (os.walk passed over it as well)
        dirs = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                dirs.append(entry.path)
            elif entry.name in _SKIP or entry.name.startswith(".tmp-"):
                continue
            elif entry.is_file(follow_symlinks=False):
                found.append(os.path.relpath(entry.path, directory))
        for sub in dirs:  # a directory's files first, then its directories, as os.walk
            walk(sub)

    walk(str(directory))
    return found


def _late_file(relpath: str, capsules: set[str]) -> bool:
    """Records that legitimately arrive after the session ended, beside a sealed capsule."""
    parts = relpath.split(os.sep)
    if parts[0] != "approvals":
        return False
    if len(parts) == 2:
        match = _LATE.fullmatch(parts[1])
    elif len(parts) == 3:
        match = _VOTE_DIR.fullmatch(parts[1]) if _USER_FILE.fullmatch(parts[2]) else None
    else:
        return False
    return match is not None and match.group(1) in capsules


def seal(directory: Path, *, after_crash: bool = False) -> None:
    """Write the manifest; every file it lists is durable first: the trace (appended
    without a sync per line), its payloads and anything else are flushed here, and so is
    every directory holding one (payloads are created without a directory sync). The
    session's own records were synced as they were written, unless a crash came between
    a write and its sync: recovery seals with ``after_crash`` and flushes them all. The
    session directory itself is synced by the manifest's own write."""
    listed = _files(directory)

    def flush(rel: str) -> bool:
        return after_crash or _SYNCED_WHEN_WRITTEN.fullmatch(rel) is None

    lines = [f"{_digest(directory / rel, flush=flush(rel))}  {rel}" for rel in listed]
    for sub in sorted({str(parent) for rel in listed for parent in Path(rel).parents} - {"."}):
        fsync_dir(directory / sub)
    replace_atomically(directory / MANIFEST, ("\n".join(lines) + "\n").encode())


def seal_after_crash(directory: Path) -> bool:
    """Seal a session that ended without its seal (a crash came between the two), every
    file flushed; False when it was sealed already."""
    if is_sealed(directory):
        return False
    seal(directory, after_crash=True)
    return True


def is_sealed(directory: Path) -> bool:
    """Whether the session was sealed (not whether the seal still holds: ``verify``)."""
    return (directory / MANIFEST).exists()


class VerifyReport:
    def __init__(self, problems: list[str], sealed: bool) -> None:
        self.problems = problems
        self.sealed = sealed

    @property
    def ok(self) -> bool:
        return not self.problems


def _listed_problem(directory: Path, rel: str, digest: str) -> str | None:
    """What is wrong with one file the manifest lists, or None when it matches. Only a
    regular file of the session is read: a manifest may be tampered with, and a path
    outside it, a directory, a FIFO or a device (``/dev/zero``) would never end."""
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return f"not a file of this session: {rel!r}"
    path = directory / rel
    try:
        if not path.exists():
            return f"missing: {rel}"
        if not stat.S_ISREG(path.stat().st_mode):
            return f"not a regular file: {rel}"
        return None if _digest(path) == digest else f"changed: {rel}"
    except OSError as exc:
        return f"unreadable: {rel} ({exc.strerror or exc})"


def verify(directory: Path) -> VerifyReport:
    if not is_sealed(directory):
        return VerifyReport([], sealed=False)
    manifest = directory / MANIFEST
    listed: dict[str, str] = {}
    problems: list[str] = []
    try:
        text = read_file(manifest).decode()  # a FIFO by its name: refused, never waited on
    except (OSError, UnicodeDecodeError) as exc:
        text = ""
        problems.append(f"{MANIFEST} cannot be read: {exc}")
    for line in text.splitlines():
        if not line.strip():
            continue
        digest, _, rel = line.partition("  ")
        listed[rel] = digest
    for rel, digest in listed.items():
        problem = _listed_problem(directory, rel, digest)
        if problem is not None:
            problems.append(problem)
    capsules = {m.group(1) for rel in listed if (m := _CAPSULE.fullmatch(rel))}
    for rel in _files(directory):
        if rel not in listed and not _late_file(rel, capsules):
            problems.append(f"added after seal: {rel}")
    return VerifyReport(problems, sealed=True)
