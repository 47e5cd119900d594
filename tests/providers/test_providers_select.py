"""SIGNOFF_MODEL parsing and model selection."""

from __future__ import annotations

import pytest
from providers_testkit import ANTHROPIC_KEY, OPENAI_KEY

from agent_core.model import Model
from agent_core.providers import (
    AnthropicModel,
    ModelSpec,
    OpenAICompatibleModel,
    OpenAIModel,
    ProviderConfigError,
    model_from_spec,
    parse_spec,
)


@pytest.mark.parametrize("spec", ["offline", "OFFLINE", "  offline ", ""])
def test_offline_returns_none(spec: str) -> None:
    assert parse_spec(spec) is None
    assert model_from_spec(spec, env={}) is None


def test_parse_spec_keeps_colons_in_model_names() -> None:
    assert parse_spec("openai-compatible:llama3.1:8b") == ModelSpec(
        "openai-compatible", "llama3.1:8b"
    )
    assert parse_spec(" Anthropic : claude-sonnet-4-6 ") == ModelSpec(
        "anthropic", "claude-sonnet-4-6"
    )
    assert str(ModelSpec("openai", "gpt-4o")) == "openai:gpt-4o"


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("claude-sonnet-4-6", "is not a model spec"),
        ("gemini:pro", "unknown provider 'gemini'"),
        ("anthropic:", "names no valid model"),
        ("openai:gpt 4o", "names no valid model"),
    ],
)
def test_malformed_specs(spec: str, fragment: str) -> None:
    with pytest.raises(ProviderConfigError, match=fragment) as info:
        model_from_spec(spec, env={})
    assert info.value.reason == "bad_spec"
    assert "offline, anthropic:<model>, openai:<model> or openai-compatible:<model>" in str(
        info.value
    )


async def test_anthropic_selection() -> None:
    model = model_from_spec(
        "anthropic:claude-sonnet-4-6",
        env={"ANTHROPIC_API_KEY": f" {ANTHROPIC_KEY}\n", "ANTHROPIC_BASE_URL": "http://x:1"},
    )
    assert isinstance(model, AnthropicModel)
    typed: Model = model
    assert typed.name == "anthropic:claude-sonnet-4-6"
    assert model.base_url == "http://x:1"
    await model.aclose()


async def test_openai_selection_and_default_base_url() -> None:
    model = model_from_spec("openai:gpt-4o", env={"OPENAI_API_KEY": OPENAI_KEY})
    assert isinstance(model, OpenAIModel) and not isinstance(model, OpenAICompatibleModel)
    assert model.base_url == "https://api.openai.com/v1"
    await model.aclose()


@pytest.mark.parametrize(
    ("spec", "env_name"),
    [("anthropic:claude-sonnet-4-6", "ANTHROPIC_API_KEY"), ("openai:gpt-4o", "OPENAI_API_KEY")],
)
def test_missing_keys(spec: str, env_name: str) -> None:
    with pytest.raises(ProviderConfigError) as info:
        model_from_spec(spec, env={env_name: "   "})
    assert str(info.value) == f"SIGNOFF_MODEL={spec} needs {env_name}, which is not set."
    assert info.value.reason == "missing_key"


async def test_openai_compatible_needs_base_url_not_key() -> None:
    with pytest.raises(ProviderConfigError, match="needs OPENAI_BASE_URL") as info:
        model_from_spec("openai-compatible:qwen2.5", env={"OPENAI_API_KEY": "x"})
    assert info.value.reason == "missing_base_url"
    model = model_from_spec(
        "openai-compatible:qwen2.5", env={"OPENAI_BASE_URL": "http://127.0.0.1:8000/v1"}
    )
    assert isinstance(model, OpenAICompatibleModel)
    assert model.name == "openai-compatible:qwen2.5"
    await model.aclose()


def test_bad_base_url_hides_credentials() -> None:
    with pytest.raises(ProviderConfigError) as info:
        model_from_spec(
            "openai-compatible:m", env={"OPENAI_BASE_URL": "ftp://user:hunter2@host/v1"}
        )
    assert info.value.reason == "bad_base_url"
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "url"),
    [
        # A ValueError traceback from urlsplit at start-up (and at `signoff doctor`).
        ("OPENAI_BASE_URL", "http://u:hunter2@[::1/v1"),
        ("ANTHROPIC_BASE_URL", "http://[::1/v1"),
        # Taken, then every call failed: "unhandled errors in a TaskGroup".
        ("OPENAI_BASE_URL", "http://u:hunter2@127.0.0.1:99999/v1"),
    ],
)
def test_a_base_url_no_client_could_call_is_a_config_error(name: str, url: str) -> None:
    spec = "anthropic:m" if name.startswith("ANTHROPIC") else "openai-compatible:m"
    with pytest.raises(ProviderConfigError, match=name) as info:
        model_from_spec(spec, env={name: url, "ANTHROPIC_API_KEY": "k"})
    assert info.value.reason == "bad_base_url"
    assert "hunter2" not in str(info.value)


async def test_repr_shows_no_key_or_credentials() -> None:
    model = model_from_spec(
        "openai-compatible:m",
        env={"OPENAI_BASE_URL": "http://user:hunter2@127.0.0.1:9/v1", "OPENAI_API_KEY": OPENAI_KEY},
    )
    assert model is not None
    assert OPENAI_KEY not in repr(model) and "hunter2" not in repr(model)
    assert model.base_url == "http://127.0.0.1:9/v1"
    await model.aclose()


@pytest.mark.parametrize(
    ("spec", "env_name", "extra"),
    [
        ("anthropic:claude-sonnet-4-6", "ANTHROPIC_API_KEY", {}),
        ("openai:gpt-4o", "OPENAI_API_KEY", {}),
        ("openai-compatible:qwen2.5", "OPENAI_API_KEY", {"OPENAI_BASE_URL": "http://127.0.0.1:8000/v1"}),
    ],
)  # fmt: skip
@pytest.mark.parametrize(
    ("pasted", "shown"),
    [("\u200b", "U+200B"), ("\u00a0", "U+00A0"), ("\u2019", "U+2019"), (" ", "U+0020"), ("\x7f", "U+007F")],
)  # fmt: skip
def test_a_key_no_http_header_can_carry_is_a_config_error_that_does_not_show_it(
    spec: str, env_name: str, extra: dict[str, str], pasted: str, shown: str
) -> None:
    """A key pasted with an invisible character (a zero-width or no-break space, a curly
    quote) went through: every mention then failed, with the OpenAI SDK's bare
    UnicodeEncodeError ("'ascii' codec can't encode character '\\u200b' in position 20")
    as the reason, or the server's echo of the header, key and all, in the thread."""
    key = f"sk-TESTKEY-{pasted}never-leak-9f2d"
    with pytest.raises(ProviderConfigError) as info:
        model_from_spec(spec, env={env_name: key, **extra})
    assert info.value.reason == "bad_key"
    said = str(info.value)
    assert env_name in said and shown in said and "position 12" in said
    assert "TESTKEY" not in said and "never-leak" not in said and "TESTKEY" not in repr(info.value)
