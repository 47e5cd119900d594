"""doctor(): one cheap call, and a precise diagnosis of each failure kind."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from loopback_ports import free_port
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY

from agent_core.providers import DoctorReport, doctor

CLAUDE = "anthropic:claude-sonnet-4-6"


def anthropic_env(api: FakeAnthropic, key: str = ANTHROPIC_KEY) -> dict[str, str]:
    return {"ANTHROPIC_API_KEY": key, "ANTHROPIC_BASE_URL": api.base_url}


def openai_env(api: FakeOpenAI, key: str = OPENAI_KEY) -> dict[str, str]:
    return {"OPENAI_API_KEY": key, "OPENAI_BASE_URL": api.base_url}


async def test_offline_is_fine_without_a_call() -> None:
    report = await doctor("offline", env={})
    assert report == DoctorReport(True, "offline", "", report.message)
    assert "offline" in report.message


async def test_bad_spec() -> None:
    report = await doctor("gemini:pro", env={})
    assert (report.ok, report.problem) == (False, "bad_spec")


async def test_missing_key(anthropic_api: FakeAnthropic) -> None:
    report = await doctor(CLAUDE, env={"ANTHROPIC_BASE_URL": anthropic_api.base_url})
    assert (report.ok, report.problem, report.provider, report.model) == (
        False,
        "missing_key",
        "anthropic",
        "claude-sonnet-4-6",
    )
    assert "ANTHROPIC_API_KEY" in report.message
    assert anthropic_api.requests == []


async def test_missing_base_url_for_compatible() -> None:
    report = await doctor("openai-compatible:llama3", env={})
    assert (report.ok, report.problem) == (False, "missing_base_url")


async def test_ok_anthropic() -> None:
    async with FakeAnthropic(api_key=ANTHROPIC_KEY) as api:
        api.reply("p", output_tokens=1)
        report = await doctor(CLAUDE, env=anthropic_env(api))
        [req] = api.requests
    assert report.ok and report.problem is None
    assert report.latency_ms is not None and report.latency_ms > 0
    assert "streamed an answer in" in report.message and "claude-sonnet-4-6" in report.message
    # The bot's request (test_providers_doctor_stream.py), not a bare ping.
    assert req.body["stream"] is True and req.body["max_tokens"] == 16_384


async def test_ok_openai_compatible_without_key(openai_api: FakeOpenAI) -> None:
    openai_api.reply("p")
    report = await doctor(
        "openai-compatible:llama3.1:8b", env={"OPENAI_BASE_URL": openai_api.base_url}
    )
    assert report.ok
    assert openai_api.requests[0].body["max_tokens"] == 4_096
    assert openai_api.requests[0].headers["authorization"] == "Bearer not-needed"


async def test_invalid_key() -> None:
    async with FakeAnthropic(api_key="sk-ant-the-real-one") as api:
        report = await doctor(CLAUDE, env=anthropic_env(api))
        assert len(api.requests) == 1
    assert (report.ok, report.problem) == (False, "invalid_key")
    assert "rejected the API key (401" in report.message
    assert "ANTHROPIC_API_KEY" in report.message
    assert ANTHROPIC_KEY not in report.message


async def test_permission_denied(anthropic_api: FakeAnthropic) -> None:
    anthropic_api.error(403)
    report = await doctor(CLAUDE, env=anthropic_env(anthropic_api))
    assert report.problem == "permission_denied"


async def test_bad_model_name(openai_api: FakeOpenAI) -> None:
    openai_api.error(404)
    report = await doctor("openai:gpt-nonexistent", env=openai_env(openai_api))
    assert (report.ok, report.problem) == (False, "model_not_found")
    assert "does not know the model 'gpt-nonexistent'" in report.message
    assert "SIGNOFF_MODEL" in report.message


async def test_anthropic_not_found_error_is_model_not_found(anthropic_api: FakeAnthropic) -> None:
    anthropic_api.error(404, "not_found_error", "model: claude-nonexistent")
    report = await doctor("anthropic:claude-nonexistent", env=anthropic_env(anthropic_api))
    assert report.problem == "model_not_found"


async def test_wrong_base_url_path(openai_api: FakeOpenAI) -> None:
    env = {"OPENAI_BASE_URL": openai_api.url}  # forgot the /v1: aiohttp's own 404
    report = await doctor("openai-compatible:llama3", env=env)
    assert (report.ok, report.problem) == (False, "endpoint_not_found")
    assert f"{openai_api.url}/chat/completions" in report.message
    assert "ends in /v1" in report.message


@pytest.mark.parametrize("spec", [CLAUDE, "openai-compatible:llama3"])
async def test_unreachable(spec: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    env = {"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "ANTHROPIC_BASE_URL": url, "OPENAI_BASE_URL": url}
    report = await doctor(spec, env=env)
    assert (report.ok, report.problem) == (False, "unreachable")
    assert "connection refused" in report.message
    assert "Is the server running" in report.message


async def test_rate_limited_is_reported_without_retrying(openai_api: FakeOpenAI) -> None:
    openai_api.error(429, headers={"retry-after": "1"})
    report = await doctor("openai:gpt-4o", env=openai_env(openai_api))
    assert (report.ok, report.problem) == (False, "rate_limited")
    assert "rate limiting" in report.message and "key and model are fine" in report.message
    assert len(openai_api.requests) == 1


async def test_overloaded(anthropic_api: FakeAnthropic) -> None:
    anthropic_api.error(529)
    report = await doctor(CLAUDE, env=anthropic_env(anthropic_api))
    assert (report.ok, report.problem) == (False, "overloaded")
    assert "overloaded (529)" in report.message


async def test_server_error(anthropic_api: FakeAnthropic) -> None:
    anthropic_api.error(500)
    report = await doctor(CLAUDE, env=anthropic_env(anthropic_api))
    assert report.problem == "server_error"


async def test_timeout(anthropic_api: FakeAnthropic) -> None:
    anthropic_api.reply("late", delay=1.0)
    report = await doctor(CLAUDE, env=anthropic_env(anthropic_api), timeout_s=0.2)
    assert (report.ok, report.problem) == (False, "timeout")
    assert "did not answer within 0.2 s" in report.message


async def test_the_command_shows_what_the_server_wrote_inert(
    openai_api: FakeOpenAI, tmp_path: Path
) -> None:
    # `signoff doctor` printed the server's error message as it came: an endpoint (or a
    # gateway on the way to it) could retitle, clear or rewrite the operator's terminal.
    openai_api.error(403, "\x1b]0;pwned\x07\x1b[2Jgone")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGNOFF_", "SLACK_"))}
    env.update(
        SIGNOFF_HOME=str(tmp_path / "home"),
        SIGNOFF_MODEL="openai-compatible:m",
        **openai_env(openai_api),
    )
    child = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("signoff")), "doctor", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(30):
        out, err = await child.communicate()
    assert child.returncode == 1, err
    assert b"\x1b" not in out + err and b"\x07" not in out + err
    assert "\\x1b]0;pwned\\x07\\x1b[2Jgone" in out.decode()
