"""``signoff run`` whose logs are JSON lines (``SIGNOFF_LOG_FORMAT=json``, or stderr not a
terminal) reports an error that stops it as one JSON line too, so that a log collector
reading its stderr gets it as it gets every other line: ``ts``, ``level``, ``event``,
``message``. It printed ``signoff: error: …`` as plain text, the one line a JSON
collector could not parse, and the one that said why the bot is not running. Still one
line, exit 2, no traceback; with text logs the line is unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli_errors import env_for, one_error_line, signoff

TOKENS = {
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_APP_TOKEN": "xapp-test",
    "SLACK_API_URL": "http://127.0.0.1:9/api/",  # never reached: start-up stops before
}


def bad_policy(tmp_path: Path) -> dict[str, str]:
    policy = tmp_path / "policy.toml"
    policy.write_text("[tools.launch_missiles]\nquorum = 2\n")
    return {**TOKENS, "SIGNOFF_POLICY": str(policy)}


CASES = {
    # Read once the logs are set up.
    "policy": (bad_policy, "policy names unknown tools: launch_missiles"),
    "tokens": (lambda _: {}, "signoff run needs SLACK_BOT_TOKEN"),
    # Before the settings are read: the format is the one the setting asks for.
    "settings": (lambda _: {**TOKENS, "SIGNOFF_NO_SUCH": "1"}, "unknown setting SIGNOFF_NO_SUCH"),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("format", ["json", ""])
def test_a_run_that_cannot_start_says_why_in_one_json_line(
    tmp_path: Path, case: str, format: str
) -> None:
    extra, said = CASES[case]
    env = env_for(tmp_path / "home", **extra(tmp_path))
    if format:
        env["SIGNOFF_LOG_FORMAT"] = format  # else: JSON, as stderr is not a terminal
    done = signoff("run", env=env, timeout=20)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    record = json.loads(line)
    assert record["level"] == "error" and record["event"] == "exit_error", record
    assert said in record["message"], record
    assert record["ts"].endswith("Z")


@pytest.mark.parametrize("case", CASES)
def test_with_text_logs_the_line_is_plain(tmp_path: Path, case: str) -> None:
    extra, said = CASES[case]
    env = env_for(tmp_path / "home", **extra(tmp_path), SIGNOFF_LOG_FORMAT="text")
    assert said in one_error_line(signoff("run", env=env, timeout=20))


@pytest.mark.parametrize("format", ["json", "text"])
def test_a_token_in_why_run_stopped_is_scrubbed_in_either_format(
    tmp_path: Path, format: str
) -> None:
    """The JSON line went through the scrubbing every log line gets; the text one
    (``SIGNOFF_LOG_FORMAT=text``, as under a terminal or journald) was written as it
    came, so a tool module failing on a token it was handed printed the token."""
    token = "xoxb-1234-5678-abcdefsecret"
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "leaky.py").write_text(f"raise RuntimeError('bad token {token}')\n")
    env = env_for(
        tmp_path / "home",
        **TOKENS,
        SIGNOFF_TOOLS="leaky",
        PYTHONPATH=str(tools),
        SIGNOFF_LOG_FORMAT=format,
    )
    done = signoff("run", env=env, timeout=20)
    assert done.returncode == 2, (done.returncode, done.stderr)
    (line,) = done.stderr.strip().splitlines()
    assert "importing leaky failed: RuntimeError: bad token [redacted]" in line, line
    assert token not in done.stderr
