"""Durable file primitives: every record signoff keeps goes through these.

Atomic replace is temp file in the same directory, fsync, rename, fsync the directory,
so a reader sees the old bytes or the new bytes and a crash leaves one of the two.
Create-only writes use a hard link from the temp file, which fails with EEXIST when the
target exists: the file appears complete or not at all, and the first writer wins.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any, BinaryIO

from .errors import AlreadyExistsError

__all__ = [
    "Appender",
    "NotRegularFileError",
    "append_line",
    "canonical_json",
    "complete_lines",
    "create_only",
    "fsync_dir",
    "fsync_file",
    "make_dirs",
    "open_regular",
    "read_file",
    "replace_atomically",
    "set_fsync",
    "write_all",
    "write_new",
]

# Benchmarks may turn fsync off to populate large homes quickly; nothing else does.
_FSYNC = os.environ.get("SIGNOFF_FSYNC", "1") != "0"


def set_fsync(enabled: bool) -> None:
    global _FSYNC
    _FSYNC = enabled


def fsync_file(fd: int) -> None:
    if _FSYNC:
        os.fsync(fd)


def canonical_json(value: Any) -> str:
    """The one JSON spelling used for hashing and for records: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fsync_dir(path: Path) -> None:
    if not _FSYNC:
        return
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class NotRegularFileError(OSError):
    """What ``open_regular`` refuses that is not a directory: a FIFO, a device, a socket."""


def open_regular(path: str | os.PathLike[str]) -> int:
    """A descriptor to read the regular file ``path`` (or what a link by that name leads
    to); an OSError for anything else, before it is opened: opening a device can act on
    it (a watchdog arms, a tty becomes the process's terminal), and a FIFO would have the
    reader wait for a writer for ever. Checked again once open, against a swap between."""
    refused = _not_regular(os.stat(path).st_mode, path)
    if refused is not None:
        raise refused
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        refused = _not_regular(os.fstat(fd).st_mode, path)
    except BaseException:
        os.close(fd)
        raise
    if refused is not None:
        os.close(fd)
        raise refused
    return fd


def _not_regular(mode: int, path: str | os.PathLike[str]) -> OSError | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return IsADirectoryError(errno.EISDIR, "Is a directory", os.fspath(path))
    return NotRegularFileError(errno.EINVAL, "not a regular file", os.fspath(path))


def read_file(path: str | os.PathLike[str]) -> bytes:
    """A whole file, unbuffered; for a plain string path, a third of ``Path.read_bytes``'s
    cost (a rebuild reads a few files per session, a million sessions). A record is a
    regular file (or a link to one): anything else is refused (``open_regular``)."""
    with open(open_regular(path), "rb", buffering=0) as handle:
        return handle.read()


def make_dirs(*paths: Path) -> None:
    """``mkdir -p`` each path, every directory made synced into its parent (once): a file
    is only as durable as the names leading to it."""
    made: list[Path] = []
    for path in paths:
        _make_dir(path, made)
    for parent in dict.fromkeys(p.parent for p in made):
        fsync_dir(parent)


def _make_dir(path: Path, made: list[Path], *, parents: bool = True) -> None:
    """``path.mkdir(parents=True, exist_ok=True)``, noting each directory its mkdir made:
    one seen there a moment before may be gone by the mkdir (an emptied ``timers/`` hour
    removed by the sweep), and the one made again needs its name synced like any other."""
    try:
        path.mkdir()
    except FileNotFoundError:
        if not parents or path.parent == path:
            raise
        _make_dir(path.parent, made)
        _make_dir(path, made, parents=False)
        return
    except OSError:
        if path.is_dir():
            return
        raise
    made.append(path)


def write_all(fd: int, data: bytes) -> None:
    """All of ``data``, or the error that stopped it: a write may land short (a disk
    filling up), and a record cut short must never be reported as written."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_new(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist) with ``data``, fsynced; the directory is not.

    Torn if the process dies midway: only for a directory nobody reads until it is
    renamed into place (a staged session), or for a temp file.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        write_all(fd, data)
        fsync_file(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)  # a full disk must not leave litter behind
        raise
    os.close(fd)


def _write_temp(directory: Path, data: bytes) -> Path:
    tmp = directory / f".tmp-{secrets.token_hex(8)}"
    write_new(tmp, data)
    return tmp


def replace_atomically(path: Path, data: bytes, *, sync_dir: bool = True) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new file.

    ``sync_dir=False``: the new file is complete on disk before it is renamed into place,
    but the rename itself may be lost to a power cut (the old file is then read again);
    only for a file that can be recomputed from records that were synced.
    """
    tmp = _write_temp(path.parent, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def create_only(path: Path, data: bytes, *, sync_dir: bool = True) -> None:
    """Create ``path`` with ``data``; raise AlreadyExistsError if it exists.

    The file is never visible half-written: it is linked into place only when complete.
    ``sync_dir=False`` leaves the directory fsync to a caller that batches several files.
    """
    tmp = _write_temp(path.parent, data)
    try:
        os.link(tmp, path)
    except FileExistsError as exc:
        raise AlreadyExistsError(str(path)) from exc
    finally:
        tmp.unlink(missing_ok=True)
    if sync_dir:
        fsync_dir(path.parent)


def complete_lines(data: bytes) -> bytes:
    """``data`` without a torn final record (bytes after the last newline)."""
    cut = data.rfind(b"\n")
    return data[: cut + 1] if cut >= 0 else b""


def _open_appending(path: Path) -> tuple[int, bytes]:
    """An O_APPEND descriptor, and what to write before the next record: a newline when a
    crash tore the last one, so the torn bytes stay one bad line at the end (skipped by
    readers) instead of merging with the record."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        torn = bool(size) and os.pread(fd, 1, size - 1) != b"\n"
    except BaseException:
        os.close(fd)
        raise
    return fd, b"\n" if torn else b""


class Appender:
    """``path`` kept open for newline-terminated records, one ``write`` each, not fsynced
    (a torn last record is ended first); closed by ``close`` or with the object."""

    def __init__(self, path: Path) -> None:
        fd, lead = _open_appending(path)
        self._out: BinaryIO = os.fdopen(fd, "ab", buffering=0)
        if lead:
            self.append(b"")

    def append(self, record: bytes) -> None:
        view = memoryview(record + b"\n")
        while view:
            view = view[self._out.write(view) or 0 :]

    def close(self) -> None:
        self._out.close()


def append_line(path: Path, line: str, *, sync: bool = True) -> None:
    """Append one newline-terminated record and (unless ``sync=False``) fsync it.

    O_APPEND makes each write land whole at the end even with several writers; a torn
    last line after a crash is tolerated by readers (see ``read_jsonl``).
    """
    fd, lead = _open_appending(path)
    try:
        size = os.fstat(fd).st_size
        try:
            write_all(fd, lead + (line.rstrip("\n") + "\n").encode())
        except OSError:
            # A disk that filled half-way kept the record's first bytes: taken back, or the
            # next append would end them as a torn line *before* its record, which a
            # strict reader (a transcript, tickets) takes for corruption.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            raise
        if _FSYNC and sync:
            os.fdatasync(fd)
    finally:
        os.close(fd)
