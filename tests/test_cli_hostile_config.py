"""Configuration a careless or hostile user hands ``signoff``, each answered as the README
promises: exit 2 and one line on stderr, never a traceback, never a process that hangs.

Found by a review of the configuration and command-line entry points; every test here
failed on the code it was written against. They run the console script in a subprocess
(``test_cli_errors``): a hang or a traceback printed at interpreter exit only shows there.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli_errors import env_for, one_error_line, signoff


@pytest.mark.parametrize(
    "command", [["sessions"], ["say", "--as", "U0A", "--channel", "C0OPS", "hi"]]
)
@pytest.mark.parametrize("kind", ["garbage", "directory"])
def test_an_index_that_cannot_be_opened_is_one_line_and_no_hang(
    tmp_path: Path, command: list[str], kind: str
) -> None:
    # The index's thread was left running (a hang at exit) or was told to stop after the
    # event loop had closed (a traceback from that thread).
    home = tmp_path / "home"
    (home / "sessions").mkdir(parents=True)
    if kind == "garbage":
        (home / "index.sqlite3").write_bytes(b"not a database, " * 512)
    else:
        (home / "index.sqlite3").mkdir()
    line = one_error_line(signoff(*command, env=env_for(home, SIGNOFF_DEMO="1"), timeout=20))
    assert "index" in line
