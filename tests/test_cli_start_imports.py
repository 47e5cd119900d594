"""What every ``signoff`` command pays at start: not slack_sdk nor jsonschema, which only
a call to Slack and a tool's argument check need (together about a seventh of a second
of each command's start, measured with ``python -X importtime``)."""

from __future__ import annotations

import subprocess
import sys

CHECK = (
    "import sys, bot.cli_commands\n"
    "print(' '.join(m for m in ('slack_sdk', 'jsonschema', 'referencing') if m in sys.modules))"
)


def test_the_commands_start_without_slack_sdk_or_jsonschema() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == []
