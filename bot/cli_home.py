"""The home a command that writes works in: made if missing, and one it can write.

A mistake in it (a file where a directory goes, a read-only file system, another user's
home) ends the command with one line before anything is opened.
"""

from __future__ import annotations

from sessions import Home, can_write, on_read_only

from .config import ConfigError, Settings

__all__ = ["checked_writable", "writable_home"]


def writable_home(settings: Settings) -> Home:
    """The home, created if missing; a ConfigError naming it when that is impossible."""
    home = Home(settings.home)
    try:
        home.ensure()
    except OSError as exc:
        why = exc.strerror or exc
        if isinstance(exc, FileExistsError):  # mkdir of a file: true, but no help
            inner = exc.filename not in (None, str(home.root))
            why = f"{exc.filename} is not a directory" if inner else "not a directory"
        raise ConfigError(f"cannot use SIGNOFF_HOME {home.root}: {why}") from None
    # What is made there later (the outbox, approval pointers, quarantine, upgrade
    # markers): one that is a file failed every write to it, a bot's delivery each second
    # with a traceback while /readyz said ready, instead of stopping start-up here.
    later = (home.root / "outbox", home.pointers_dir, home.quarantine_dir, home.upgrade_dir)
    for part in later:
        if part.exists() and not part.is_dir():
            raise ConfigError(f"cannot use SIGNOFF_HOME {home.root}: {part} is not a directory")
    return checked_writable(home)


def checked_writable(home: Home) -> Home:
    """``home``, or a ConfigError when this process cannot write it: a home on a read-only
    file system (a snapshot, a remount after errors) or another user's. Every directory of
    it is there, so making them succeeded; the first write was the index's, which failed
    with "unable to open database file" and advice to rebuild an index that was fine."""
    if can_write(home):
        return home
    why = (
        "it is on a read-only file system"
        if on_read_only(home.root)
        else "this user cannot write it"
    )
    raise ConfigError(f"cannot use SIGNOFF_HOME {home.root}: {why}; nothing was recorded")
