"""More tools than a provider takes in one request: never sent, said plainly.

OpenAI refuses a ``tools`` array over 128 entries with a 400 (``array_above_max_length``)
that told the thread nothing it could act on; the fake refuses it the same way. Anthropic
and OpenAI-compatible servers document no such cap, so their requests go as they are.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from fake_anthropic import FakeAnthropic
from fake_openai import OPENAI_MAX_TOOLS, FakeOpenAI
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY, fast

from agent_core.demo_fleet import demo_registry
from agent_core.messages import UserMessage
from agent_core.model import ToolSpec
from agent_core.providers import (
    AnthropicModel,
    OpenAICompatibleModel,
    OpenAIModel,
    ProviderRequestError,
    TooManyToolsError,
    tool_limit,
)
from agent_core.surface import RecordingSurface
from agent_core.tools import FunctionTool, tool
from sessions import Home, SessionFiles, SessionState

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine_support import EngineFactory, chain, message, replies

HI = [UserMessage(text="status of api")]


def specs(count: int) -> list[ToolSpec]:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    return [
        ToolSpec(name=f"ops__probe_{n:03d}", description="probe", input_schema=schema)
        for n in range(count)
    ]


def gpt(api: FakeOpenAI) -> OpenAIModel:
    return OpenAIModel("gpt-4o", api_key=OPENAI_KEY, base_url=api.base_url, settings=fast())


@pytest.mark.parametrize("streamed", [False, True])
async def test_openai_over_128_tools_is_never_sent_and_says_why(
    openai_api: FakeOpenAI, streamed: bool
) -> None:
    model = gpt(openai_api)
    call = (
        model.stream(system="s", messages=HI, tools=specs(129), sink=_Sink())
        if streamed
        else model.complete(system="s", messages=HI, tools=specs(129))
    )
    with pytest.raises(ProviderRequestError) as caught:
        await call
    assert openai_api.requests == []  # the API would refuse it: nothing went out
    said = str(caught.value)
    assert "OpenAI takes at most 128 tools in a request" in said
    assert "129 are offered" in said
    assert "nothing was sent" in said
    assert "include or exclude in [mcp.servers.NAME]" in said
    assert isinstance(caught.value, TooManyToolsError)
    assert (caught.value.limit, caught.value.offered, caught.value.attempts) == (128, 129, 0)
    await model.aclose()


async def test_each_new_count_over_the_limit_is_logged_once(
    openai_api: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    """A listing that grows past the limit while signoff runs reaches the operator's log
    (start-up's warning could not know), once per count, not once per turn."""
    model = gpt(openai_api)
    with caplog.at_level(logging.WARNING, logger="agent_core.providers"):
        for count in (129, 129, 129, 140):
            with pytest.raises(TooManyToolsError):
                await model.complete(system="s", messages=HI, tools=specs(count))
    said = [r.getMessage() for r in caplog.records if r.name == "agent_core.providers"]
    assert [line.split(", and ")[1].split(" are")[0] for line in said] == ["129", "140"]
    assert said[0].startswith("openai:gpt-4o: OpenAI takes at most 128 tools in a request")
    assert openai_api.requests == []
    await model.aclose()


async def test_openai_at_exactly_128_tools_is_sent(openai_api: FakeOpenAI) -> None:
    openai_api.reply("All green.")
    model = gpt(openai_api)
    reply = await model.complete(system="s", messages=HI, tools=specs(OPENAI_MAX_TOOLS))
    assert reply.text == "All green."
    assert len(openai_api.requests[0].body["tools"]) == 128
    await model.aclose()


async def test_an_openai_compatible_server_gets_every_tool() -> None:
    """vLLM, llama.cpp and Ollama document no cap: signoff invents none."""
    async with FakeOpenAI() as api:
        api.max_tools = None
        api.reply("ok")
        model = OpenAICompatibleModel(
            "llama3.1:8b", api_key="not-needed", base_url=api.base_url, settings=fast()
        )
        await model.complete(system="s", messages=HI, tools=specs(200))
        assert len(api.requests[0].body["tools"]) == 200
        await model.aclose()


async def test_anthropic_gets_every_tool(anthropic_api: FakeAnthropic) -> None:
    """The Messages API documents no cap on the number of tools: none is invented."""
    anthropic_api.reply("ok")
    model = AnthropicModel(
        "claude-sonnet-4-6", api_key=ANTHROPIC_KEY, base_url=anthropic_api.base_url, settings=fast()
    )
    await model.complete(system="s", messages=HI, tools=specs(200))
    assert len(anthropic_api.requests[0].body["tools"]) == 200
    await model.aclose()


def test_the_limit_of_each_model_spec() -> None:
    openai = tool_limit("openai:gpt-4o")
    assert openai is not None and (openai.provider, openai.limit) == ("OpenAI", 128)
    for spec in ("anthropic:claude-sonnet-4-6", "openai-compatible:llama3", "offline", "bad"):
        assert tool_limit(spec) is None, spec


async def test_the_turn_fails_with_the_limit_in_the_thread_and_the_trace(
    openai_api: FakeOpenAI, make_engine: EngineFactory, home: Home, surface: RecordingSurface
) -> None:
    registry = demo_registry()
    for n in range(130):
        registry.register(_probe(n))
    engine = await make_engine(model=gpt(openai_api), registry=registry)
    await engine.ingest(message("status of api", ts="1700000000.000100"))
    await engine.idle()
    assert openai_api.requests == []
    [session] = chain(home)
    assert session.state == SessionState.FAILED
    assert "OpenAI takes at most 128 tools in a request, and 134 are offered" in session.reason
    said = replies(surface)[-1]
    assert "OpenAI takes at most 128 tools in a request, and 134 are offered" in said
    assert "include or exclude in [mcp.servers.NAME]" in said
    trace = SessionFiles(home.session_dir(session.id)).read_trace()
    [failed] = [e.detail for e in trace if e.kind == "model_error"]
    assert "134 are offered" in failed["error"]


def _probe(n: int) -> FunctionTool:
    def probe() -> str:
        """Probe something."""
        return "ok"

    return tool(name=f"probe_{n:03d}")(probe)


class _Sink:
    async def text(self, delta: str) -> None:
        pass

    async def restart(self) -> None:
        pass
