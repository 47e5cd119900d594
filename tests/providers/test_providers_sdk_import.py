"""Building a model does not import its SDK on the caller's thread (start-up waits for
none of it: ``anthropic`` takes about 0.8 s); the first call waits for what is left."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from agent_core.providers.sdk_import import SdkImport

# Records which thread imports each SDK, through a finder that looks and passes on.
_PROBE = textwrap.dedent(
    """
    import json, sys, threading, time
    seen = {}

    class Look:
        def find_spec(self, name, path=None, target=None):
            if name in ("anthropic", "openai"):
                seen.setdefault(name, threading.current_thread() is threading.main_thread())
            return None

    sys.meta_path.insert(0, Look())
    from agent_core.providers.select import model_from_spec
    env = {"ANTHROPIC_API_KEY": "k", "OPENAI_API_KEY": "k"}
    models = [model_from_spec(s, env=env) for s in ("anthropic:m", "openai:m")]
    on_main = dict(seen)
    deadline = time.monotonic() + 60
    while len(seen) < 2 and time.monotonic() < deadline:  # the threads begin their imports
        time.sleep(0.01)
    import anthropic, openai  # waits for those imports to finish
    print(json.dumps({"on_main_at_build": on_main, "on_main": seen}))
    """
)


def test_building_a_model_leaves_its_sdk_import_to_another_thread() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    seen = json.loads(out.stdout)
    # Neither was imported on the main thread, not while building nor after.
    assert seen["on_main"] == {"anthropic": False, "openai": False}
    assert all(not v for v in seen["on_main_at_build"].values())


async def test_ready_keeps_the_event_loop_free_while_the_import_runs(tmp_path: Path) -> None:
    gate = threading.Event()
    (tmp_path / "slow_sdk_for_test.py").write_text(
        "import builtins\nbuiltins._slow_sdk_gate.wait(60)\nVALUE = 42\n"
    )
    import builtins

    builtins._slow_sdk_gate = gate  # type: ignore[attr-defined]
    sys.path.insert(0, str(tmp_path))
    try:
        sdk = SdkImport("slow_sdk_for_test")
        ready = asyncio.create_task(sdk.ready())
        ticks = 0
        while ticks < 5:  # the loop runs other work while the import is held
            await asyncio.sleep(0)
            ticks += 1
        assert not ready.done()
        gate.set()
        await asyncio.wait_for(ready, 60)
        assert sys.modules["slow_sdk_for_test"].VALUE == 42
        await sdk.ready()  # at once the second time
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("slow_sdk_for_test", None)
        del builtins._slow_sdk_gate  # type: ignore[attr-defined]


async def test_an_import_that_failed_on_its_thread_fails_the_call_with_its_error() -> None:
    sdk = SdkImport("no_such_sdk_for_signoff_tests")
    with pytest.raises(ModuleNotFoundError, match="no_such_sdk_for_signoff_tests"):
        await sdk.ready()


async def test_an_import_that_failed_only_on_its_thread_is_done_again_for_the_first_call(
    tmp_path: Path,
) -> None:
    # As the import lock's deadlock detection fails an import that raced the main thread's.
    (tmp_path / "thread_shy_sdk_probe.py").write_text(
        "import threading\n"
        "if threading.current_thread() is not threading.main_thread():\n"
        "    raise RuntimeError('deadlock detected by _ModuleLock')\n"
        "VALUE = 7\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        sdk = SdkImport("thread_shy_sdk_probe")
        await sdk.ready()
        assert sys.modules["thread_shy_sdk_probe"].VALUE == 7
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("thread_shy_sdk_probe", None)


# The SDK's import held on its thread until the test lets it go, with a model on a fake
# Anthropic: ``ask()`` is one call; the scenario's ``main()`` prints what it saw as JSON.
_HELD_IMPORT = textwrap.dedent(
    """
    import asyncio, gc, json, sys, threading
    sys.path.insert(0, sys.argv[1])
    entered, gate = threading.Event(), threading.Event()

    class Hold:
        def find_spec(self, name, path=None, target=None):
            if name == "anthropic" and threading.current_thread() is not threading.main_thread():
                entered.set()
                gate.wait(60)
            return None

    sys.meta_path.insert(0, Hold())
    from fake_anthropic import FakeAnthropic
    from agent_core.messages import UserMessage
    from agent_core.providers import AnthropicModel

    def asker(model):
        return lambda: model.complete(system="s", messages=[UserMessage(text="hi")], tools=[])
    """
)


def _held_import(scenario: str) -> dict[str, object]:
    script = _HELD_IMPORT + textwrap.dedent(scenario) + "\nprint(json.dumps(asyncio.run(main())))\n"
    out = subprocess.run(
        [sys.executable, "-c", script, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen: dict[str, object] = json.loads(out.stdout)
    seen["stderr"] = out.stderr
    return seen


def test_a_first_call_cancelled_while_the_sdk_imports_leaves_the_model_working() -> None:
    # A stop, a drain or an early call let go in the first second after start-up.
    seen = _held_import(
        """
        async def main():
            async with FakeAnthropic() as api:
                api.reply("later")
                model = AnthropicModel("claude-test", api_key="k", base_url=api.base_url)
                ask = asker(model)
                first = asyncio.ensure_future(ask())
                await asyncio.to_thread(entered.wait, 60)
                first.cancel()
                await asyncio.wait([first])
                gate.set()
                try:
                    reply = (await ask()).text
                except Exception as exc:
                    reply = f"{type(exc).__name__}: {exc}"
                await model.aclose()
            return {"first_cancelled": first.cancelled(), "next": reply}
        """
    )
    assert seen["first_cancelled"] is True
    assert seen["next"] == "later"
    assert "Traceback" not in str(seen["stderr"])  # nor a failure on the import's thread


def test_first_calls_made_together_share_one_client() -> None:
    # Several threads mentioned, or sessions recovered, while the SDK still imports.
    seen = _held_import(
        """
        async def main():
            unclosed = []
            asyncio.get_running_loop().set_exception_handler(
                lambda loop, context: unclosed.append(context["message"])
            )
            async with FakeAnthropic() as api:
                api.reply("one")
                api.reply("two")
                model = AnthropicModel("claude-test", api_key="k", base_url=api.base_url)
                ask = asker(model)
                calls = [asyncio.ensure_future(ask()) for _ in range(2)]
                await asyncio.to_thread(entered.wait, 60)
                gate.set()
                replies = sorted(r.text for r in await asyncio.gather(*calls))
                await model.aclose()
            gc.collect()
            return {"replies": replies, "unclosed": unclosed}
        """
    )
    assert seen["replies"] == ["one", "two"]
    assert seen["unclosed"] == []


def test_doctor_times_the_answer_not_the_sdk_import() -> None:
    # `signoff doctor` said "answered in 2470 ms" of a local server that took 38 ms.
    seen = _held_import(
        """
        import time
        from agent_core.providers import doctor

        async def main():
            async with FakeAnthropic() as api:
                api.reply("pong")
                env = {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": api.base_url}
                check = asyncio.ensure_future(doctor("anthropic:claude-test", env=env))
                await asyncio.to_thread(entered.wait, 60)  # the check waits for the import
                await asyncio.sleep(0.3)  # an import that takes a while, as on a busy host
                released = time.perf_counter()
                gate.set()
                report = await check
                since = (time.perf_counter() - released) * 1000
            return {"ok": report.ok, "latency_ms": report.latency_ms, "since_released": since}
        """
    )
    assert seen["ok"] is True
    assert isinstance(seen["latency_ms"], float) and isinstance(seen["since_released"], float)
    # The time told is within the time after the import (whatever else that holds).
    assert seen["latency_ms"] < seen["since_released"]
