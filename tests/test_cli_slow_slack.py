"""``signoff approve`` / ``deny`` beside a Slack that is slow to answer: the terminal says
what happened at once, and says what it is waiting for."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from test_cli_errors import SIGNOFF, SilentServer, env_for, signoff


async def test_approve_says_the_outcome_at_once_when_slack_is_slow_to_answer(
    tmp_path: Path,
) -> None:
    # The call ran at once, but the terminal said nothing more until Slack's calls (the
    # card's update, the reply) had timed out: half a minute of silence that reads as a
    # hang, with the restart already done.
    home = tmp_path / "home"
    asked = signoff("say", "--as", "U0ALICE", "--channel", "C0OPS", "restart api",
                    env=env_for(home, SIGNOFF_DEMO="1"))  # fmt: skip
    (approval,) = re.findall(r"appr_[0-9a-f]{16}", asked.stdout)
    async with SilentServer() as slack:
        env = env_for(
            home,
            SIGNOFF_DEMO="1",
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_API_URL=f"http://127.0.0.1:{slack.port}/api/",
            SIGNOFF_SLACK_TIMEOUT_S="20",
        )
        child = await asyncio.create_subprocess_exec(
            SIGNOFF, "approve", approval, "--as", "U0BOB", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert child.stdout is not None
        lines: list[str] = []
        try:
            async with asyncio.timeout(10):  # well inside Slack's 20 s
                while not any("Slack has not answered" in line for line in lines):
                    lines.append((await child.stdout.readline()).decode())
        finally:
            child.kill()
            await child.wait()
    said = "".join(lines)
    assert said.startswith("approved by U0BOB\n")
    assert "restart_service` finished" in said and "restarts=1" in said
