"""SIGNOFF_MAX_OUTPUT_TOKENS, through the settings, ``build_model`` and the real SDKs to
the fake servers. The limit was fixed at 4096: a reasoning model (gpt-5, o3) can spend
all of it thinking and answer "(ran out of output tokens; it gave no answer)", and no
setting could give it more room."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import FakeOpenAI
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY

from agent_core.messages import UserMessage
from bot.config import ConfigError, Settings
from bot.models import build_model

CASES = [
    ("anthropic:claude-sonnet-4-6", "max_tokens", 16_384),
    ("openai:gpt-5", "max_completion_tokens", 16_384),
    # A local server's context window counts the output limit (vLLM refuses a request
    # whose prompt and limit overflow it), and local windows are often small.
    ("openai-compatible:llama3", "max_tokens", 4_096),
]


async def _sent_limit(
    spec: str, field: str, tmp_path: Path, anthropic: FakeAnthropic, openai: FakeOpenAI, **env: str
) -> object:
    settings = Settings.from_env({"SIGNOFF_HOME": str(tmp_path), "SIGNOFF_MODEL": spec, **env})
    keys = {
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "ANTHROPIC_BASE_URL": anthropic.base_url,
        "OPENAI_API_KEY": OPENAI_KEY,
        "OPENAI_BASE_URL": openai.base_url,
    }
    model = build_model(settings.model, keys, max_output_tokens=settings.max_output_tokens)
    api: FakeAnthropic | FakeOpenAI = anthropic if spec.startswith("anthropic") else openai
    api.reply("ok")
    await model.complete(system="", messages=[UserMessage(text="hi")], tools=[])
    return api.requests[-1].body[field]


@pytest.mark.parametrize("given", [None, "32000"])
@pytest.mark.parametrize(("spec", "field", "default"), CASES)
async def test_each_call_sends_the_output_limit_set_else_room_for_reasoning(
    anthropic_api: FakeAnthropic,
    openai_api: FakeOpenAI,
    tmp_path: Path,
    spec: str,
    field: str,
    default: int,
    given: str | None,
) -> None:
    env = {} if given is None else {"SIGNOFF_MAX_OUTPUT_TOKENS": given}
    sent = await _sent_limit(spec, field, tmp_path, anthropic_api, openai_api, **env)
    assert sent == (default if given is None else int(given))


@pytest.mark.parametrize("value", ["100", "200000", "lots", "1e6", "-5"])
def test_an_output_limit_out_of_bounds_stops_start_up(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"^configuration: SIGNOFF_MAX_OUTPUT_TOKENS: ") as err:
        Settings.from_env({"SIGNOFF_HOME": str(tmp_path), "SIGNOFF_MAX_OUTPUT_TOKENS": value})
    assert repr(value) in str(err.value) and "\n" not in str(err.value)


def test_signoff_run_with_an_output_limit_too_high_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "SIGNOFF_HOME": str(tmp_path),
        "SIGNOFF_MAX_OUTPUT_TOKENS": "999999",
        "SIGNOFF_LOG_FORMAT": "text",
        # The code under test, when it is not the installed checkout's.
        **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),
    }
    signoff = str(Path(sys.executable).with_name("signoff"))
    done = subprocess.run(
        [signoff, "run"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [
        "signoff: error: configuration: SIGNOFF_MAX_OUTPUT_TOKENS: "
        "Input should be less than or equal to 128000, not '999999'"
    ]
