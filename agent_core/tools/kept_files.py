"""A tool's kept output in the workspace's ``tool-output/``: files made anew, never a link.

Commands run in the workspace and may leave links there (a tarball or a repository a model
chose holds any): at ``tool-output`` itself, or at the name the next call keeps its output
under, symbolic or hard, to a file outside (a record of the home). A kept file opened by
path wrote through them. Both tools keep their output through here: a command's streams
(``command_run``) and an MCP tool's long result (``mcp_tool``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["new_kept_files"]


@contextlib.contextmanager
def new_kept_files(folder: Path, *names: str) -> Iterator[tuple[IO[bytes], ...]]:
    """``names`` in ``folder`` (``tool-output/``), each a new file open for reading and
    writing (unbuffered, so a full disk fails a write, never the close). ``OSError`` when
    they cannot be made (a folder by a file's name, a full disk)."""
    with contextlib.ExitStack() as kept_open:
        opened = kept_open.enter_context(_kept_folder(folder))
        yield tuple(kept_open.enter_context(_new_kept_file(opened, name)) for name in names)


@contextlib.contextmanager
def _kept_folder(folder: Path) -> Iterator[int]:
    """The folder, opened: a link in its place is removed, never followed out of the
    workspace; so is a file there (the name is signoff's)."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        folder.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)


def _new_kept_file(folder: int, name: str) -> IO[bytes]:
    """A new file ``name`` in ``folder``: whatever was there by that name (a link, symbolic
    or hard) is unlinked, not written through."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=folder)
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    return os.fdopen(os.open(name, flags, 0o666, dir_fd=folder), "w+b", buffering=0)
