"""``signoff verify`` beside a running bot: a session it meets as it ends is not tampering.

Found by a review of the on-disk home; the test failed on the code it was written against.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from governance_support import park

from bot.cli_verify import verify_sessions
from sessions import FixedClock, Home, dir_lock, seal


def test_a_session_verify_meets_between_its_end_and_its_seal_is_not_flagged(
    home: Home, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A session ends in two steps under its directory's lock: its final state, then its
    seal (every file read and hashed). ``verify`` read no seal, then the final state, and
    reported the session TAMPERED ("ended but has no seal", exit 1): a monitoring job
    running it beside a busy bot raised a false alarm. It now waits for that lock before
    calling a missing seal a problem, as recovery does before sealing one."""
    capsule = park(home, clock)
    directory = Path(home.session_dir(capsule.session_id))
    (directory / "MANIFEST.sha256").unlink()  # ended, its seal being written
    codes: list[int] = []
    with dir_lock(directory):  # the ending transition, still sealing
        checker = threading.Thread(target=lambda: codes.append(verify_sessions(home, None)))
        checker.start()
        checker.join(timeout=0.5)  # it may not finish while the session is being sealed
        seal(directory)
    checker.join()
    out = capsys.readouterr().out
    assert codes == [0], out
    assert "verified 1 session(s), 0 with problems" in out
