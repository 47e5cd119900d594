"""Provider adapter overhead per turn, against the local fake servers.

For each provider, ``TURNS`` interleaved pairs of calls go to the same local fake server
(tests/providers/fake_*.py) in the same event loop:

- ``sdk``: the official SDK's ``create(**body)`` with a request body built beforehand;
- ``adapter``: our ``Model.complete()``: conversion of a 7-record transcript with tool
  calls and results, the SDK call, our retry wrapper, and parsing the reply.

``added_ms`` is the difference of the medians; ``convert_parse`` times the conversion and
the parse alone (no I/O), which is the adapter's own work. Target: under 1 ms per turn.
``run()`` returns one dict per provider; ``python bench/providers_bench.py`` prints them.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_FAKES = Path(__file__).resolve().parents[1] / "tests" / "providers"
if str(_FAKES) not in sys.path:
    sys.path.insert(0, str(_FAKES))

import anthropic  # noqa: E402
import openai  # noqa: E402
from fake_anthropic import FakeAnthropic, ToolUse  # noqa: E402
from fake_openai import Call, FakeOpenAI  # noqa: E402
from provider_samples import SYSTEM, TOOLS, TRANSCRIPT  # noqa: E402

from agent_core.providers import (  # noqa: E402
    AnthropicModel,
    ModelSettings,
    OpenAIModel,
    from_anthropic,
    from_openai,
)

TURNS = 300
WARMUP = 20
CONVERT_ROUNDS = 2000
TARGET_MS = 1.0
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


@contextmanager
def _no_proxy() -> Iterator[None]:
    saved = {k: os.environ.pop(k) for k in _PROXY_VARS if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _stats(samples_s: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in samples_s)
    p99 = statistics.quantiles(ms, n=100)[98] if len(ms) >= 2 else ms[0]
    return statistics.median(ms), p99


async def _timed(fn: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await fn()
    return time.perf_counter() - started


def _convert_parse(build: Callable[[], Any], parse: Callable[[], Any]) -> list[float]:
    out = []
    for _ in range(CONVERT_ROUNDS):
        started = time.perf_counter()
        build()
        parse()
        out.append(time.perf_counter() - started)
    return out


def _row(provider: str, sdk: list[float], full: list[float], conv: list[float]) -> dict[str, Any]:
    sdk_med, sdk_p99 = _stats(sdk)
    full_med, full_p99 = _stats(full)
    conv_med, conv_p99 = _stats(conv)
    added = full_med - sdk_med
    return {
        "provider": provider,
        "turns": len(full),
        "sdk_median_ms": round(sdk_med, 3),
        "sdk_p99_ms": round(sdk_p99, 3),
        "adapter_median_ms": round(full_med, 3),
        "adapter_p99_ms": round(full_p99, 3),
        "added_median_ms": round(added, 3),
        "ratio": round(full_med / sdk_med, 3),
        "convert_parse_median_ms": round(conv_med, 4),
        "convert_parse_p99_ms": round(conv_p99, 4),
        "target_ms": TARGET_MS,
        "within_target": added < TARGET_MS and conv_med < TARGET_MS,
    }


async def _bench_anthropic() -> dict[str, Any]:
    settings = ModelSettings(max_tokens=1024, timeout_s=30)
    async with FakeAnthropic() as api:
        for _ in range(2 * (TURNS + WARMUP)):
            api.reply(
                "Checking both.",
                ToolUse("get_pods", {"ns": "checkout"}),
                ToolUse("restart", {"deploy": "checkout"}),
                input_tokens=900,
                output_tokens=80,
            )
        model = AnthropicModel(
            "claude-bench", api_key="k", base_url=api.base_url, settings=settings
        )
        client = anthropic.AsyncAnthropic(
            api_key="k", base_url=api.base_url, max_retries=0, timeout=30
        )
        body = model.request(system=SYSTEM, messages=TRANSCRIPT, tools=TOOLS)
        sample = api.message("x", ToolUse("get_pods", {"ns": "a"}), model="claude-bench")
        message = anthropic.types.Message.model_validate(sample)
        sdk, full = await _interleave(
            lambda: client.messages.create(**body),
            lambda: model.complete(system=SYSTEM, messages=TRANSCRIPT, tools=TOOLS),
        )
        await client.close()
        await model.aclose()
    conv = _convert_parse(
        lambda: model.request(system=SYSTEM, messages=TRANSCRIPT, tools=TOOLS),
        lambda: from_anthropic(message),
    )
    return _row("anthropic", sdk, full, conv)


async def _bench_openai() -> dict[str, Any]:
    settings = ModelSettings(max_tokens=1024, timeout_s=30)
    async with FakeOpenAI() as api:
        for _ in range(2 * (TURNS + WARMUP)):
            api.reply(
                "Checking both.",
                tool_calls=[Call("get_pods", '{"ns":"checkout"}'), Call("restart", "{bad")],
                prompt_tokens=900,
                completion_tokens=80,
            )
        model = OpenAIModel("gpt-bench", api_key="k", base_url=api.base_url, settings=settings)
        client = openai.AsyncOpenAI(api_key="k", base_url=api.base_url, max_retries=0, timeout=30)
        body = model.request(system=SYSTEM, messages=TRANSCRIPT, tools=TOOLS)
        sample = api.completion("x", tool_calls=[Call("get_pods", "{}")], model="gpt-bench")
        completion = openai.types.chat.ChatCompletion.model_validate(sample)
        sdk, full = await _interleave(
            lambda: client.chat.completions.create(**body),
            lambda: model.complete(system=SYSTEM, messages=TRANSCRIPT, tools=TOOLS),
        )
        await client.close()
        await model.aclose()
    conv = _convert_parse(
        lambda: model.request(system=SYSTEM, messages=TRANSCRIPT, tools=TOOLS),
        lambda: from_openai(completion),
    )
    return _row("openai", sdk, full, conv)


async def _interleave(
    sdk_call: Callable[[], Awaitable[Any]], full_call: Callable[[], Awaitable[Any]]
) -> tuple[list[float], list[float]]:
    for _ in range(WARMUP):
        await sdk_call()
        await full_call()
    sdk: list[float] = []
    full: list[float] = []
    for i in range(TURNS):
        if i % 2:
            sdk.append(await _timed(sdk_call))
            full.append(await _timed(full_call))
        else:
            full.append(await _timed(full_call))
            sdk.append(await _timed(sdk_call))
    return sdk, full


def run() -> list[dict[str, Any]]:
    """One row per provider: SDK-only vs full adapter per turn, and conversion alone."""

    async def both() -> list[dict[str, Any]]:
        return [await _bench_anthropic(), await _bench_openai()]

    with _no_proxy():
        return asyncio.run(both())


def _print(rows: list[dict[str, Any]]) -> None:
    cols = [
        ("provider", "provider"),
        ("turns", "turns"),
        ("sdk_median_ms", "sdk med"),
        ("sdk_p99_ms", "sdk p99"),
        ("adapter_median_ms", "adapter med"),
        ("adapter_p99_ms", "adapter p99"),
        ("added_median_ms", "added med"),
        ("ratio", "ratio"),
        ("convert_parse_median_ms", "conv+parse med"),
        ("convert_parse_p99_ms", "conv+parse p99"),
        ("within_target", f"< {TARGET_MS:g} ms"),
    ]
    widths = [max(len(title), *(len(str(r[key])) for r in rows)) for key, title in cols]
    print("  ".join(title.rjust(w) for (_, title), w in zip(cols, widths, strict=True)))
    for r in rows:
        print("  ".join(str(r[key]).rjust(w) for (key, _), w in zip(cols, widths, strict=True)))
    print("(times in ms per turn; adapter = conversion + SDK call + retry wrapper + parse)")


if __name__ == "__main__":
    _print(run())
