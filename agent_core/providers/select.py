"""``SIGNOFF_MODEL`` to a ``Model``.

Spec grammar (whitespace around parts is ignored, the provider is case-insensitive, the
model name is everything after the first ``:`` so ``openai-compatible:llama3.1:8b``
works)::

    offline | "" (unset)            -> None: the engine uses its built-in offline model
    anthropic:<model>               needs ANTHROPIC_API_KEY; ANTHROPIC_BASE_URL optional
    openai:<model>                  needs OPENAI_API_KEY; OPENAI_BASE_URL optional
    openai-compatible:<model>       needs OPENAI_BASE_URL; OPENAI_API_KEY optional
                                    (a placeholder key is sent when unset)

Only the ``env`` mapping given is read for these variables (the SDKs still read a few
of their own optional ones from ``os.environ``, e.g. ``OPENAI_ORG_ID``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from sessions import check_http_url

from .anthropic_model import AnthropicModel
from .errors import ProviderConfigError
from .openai_model import OpenAICompatibleModel, OpenAIModel
from .retry import Sleep
from .settings import ModelSettings
from .tool_limit import ToolLimit

__all__ = [
    "COMPATIBLE_PLACEHOLDER_KEY",
    "PROVIDERS",
    "ModelSpec",
    "model_from_spec",
    "parse_spec",
    "tool_limit",
]

PROVIDERS = ("anthropic", "openai", "openai-compatible")
COMPATIBLE_PLACEHOLDER_KEY = "not-needed"
_USAGE = "use offline, anthropic:<model>, openai:<model> or openai-compatible:<model>"


@dataclass(frozen=True)
class ModelSpec:
    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


def parse_spec(spec: str) -> ModelSpec | None:
    """The parsed spec, ``None`` for offline; ``ProviderConfigError`` when malformed."""
    text = spec.strip()
    if not text or text.lower() == "offline":
        return None
    provider, sep, model = text.partition(":")
    provider, model = provider.strip().lower(), model.strip()
    if not sep:
        raise ProviderConfigError(
            f"SIGNOFF_MODEL={spec!r} is not a model spec: {_USAGE}.", reason="bad_spec"
        )
    if provider not in PROVIDERS:
        raise ProviderConfigError(
            f"SIGNOFF_MODEL={spec!r} names an unknown provider {provider!r}: {_USAGE}.",
            reason="bad_spec",
        )
    if not model or any(ch.isspace() for ch in model):
        raise ProviderConfigError(
            f"SIGNOFF_MODEL={spec!r} names no valid model after '{provider}:': {_USAGE}.",
            reason="bad_spec",
        )
    return ModelSpec(provider, model)


_CLASSES: dict[str, type[AnthropicModel | OpenAIModel]] = {
    "anthropic": AnthropicModel,
    "openai": OpenAIModel,
    "openai-compatible": OpenAICompatibleModel,
}


def tool_limit(spec: str) -> ToolLimit | None:
    """The most tools a request of the model ``spec`` selects may carry; ``None`` when its
    provider documents no cap (or for offline, or a spec that does not parse: said where
    the model is checked)."""
    try:
        parsed = parse_spec(spec)
    except ProviderConfigError:
        return None
    made = _CLASSES[parsed.provider] if parsed is not None else None
    if made is None or made.max_tools is None:
        return None
    return ToolLimit(made.label, made.max_tools)


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _base_url(env: Mapping[str, str], name: str) -> str | None:
    url = _get(env, name)
    if url is None:
        return None
    try:
        return check_http_url(url, example="https://api.example.com/v1")
    except ValueError as exc:
        # Its message keeps a password in the URL out of the error (and so of any log).
        raise ProviderConfigError(f"{name}: {exc}.", reason="bad_base_url") from None


def _key(env: Mapping[str, str], name: str, spec: ModelSpec) -> str:
    key = _get(env, name)
    if key is None:
        raise ProviderConfigError(
            f"SIGNOFF_MODEL={spec} needs {name}, which is not set.",
            reason="missing_key",
            provider=spec.provider,
        )
    return _sendable(key, name, spec.provider)


def _sendable(key: str, name: str, provider: str) -> str:
    """``key``, if an HTTP header can carry it (visible ASCII). A key pasted with an
    invisible character (a zero-width or no-break space, a curly quote) otherwise failed
    every call: the OpenAI SDK with a bare UnicodeEncodeError, a server by echoing the
    header back, key and all. Said at start-up, naming the character, never the key."""
    for position, char in enumerate(key, start=1):
        if not "!" <= char <= "~":
            raise ProviderConfigError(
                f"{name} has a character no HTTP header can carry (U+{ord(char):04X} at "
                f"position {position}), pasted with the key? Set it again.",
                reason="bad_key",
                provider=provider,
            )
    return key


def model_from_spec(
    spec: str,
    *,
    env: Mapping[str, str],
    settings: ModelSettings | None = None,
    sleep: Sleep | None = None,
    rng: random.Random | None = None,
) -> AnthropicModel | OpenAIModel | None:
    """The ``Model`` that ``spec`` (the value of ``SIGNOFF_MODEL``) selects.

    Returns ``None`` for ``offline`` (or an empty spec): the offline model lives elsewhere
    in ``agent_core`` and the engine picks it. Raises ``ProviderConfigError`` for a
    malformed spec, a missing key or a missing/invalid base URL. No network I/O.
    Call ``await model.aclose()`` when done with it.
    """
    parsed = parse_spec(spec)
    if parsed is None:
        return None
    if parsed.provider == "anthropic":
        return AnthropicModel(
            parsed.model,
            api_key=_key(env, "ANTHROPIC_API_KEY", parsed),
            base_url=_base_url(env, "ANTHROPIC_BASE_URL"),
            settings=settings,
            sleep=sleep,
            rng=rng,
        )
    if parsed.provider == "openai":
        return OpenAIModel(
            parsed.model,
            api_key=_key(env, "OPENAI_API_KEY", parsed),
            base_url=_base_url(env, "OPENAI_BASE_URL"),
            settings=settings,
            sleep=sleep,
            rng=rng,
        )
    base_url = _base_url(env, "OPENAI_BASE_URL")
    if base_url is None:
        raise ProviderConfigError(
            f"SIGNOFF_MODEL={parsed} needs OPENAI_BASE_URL, the server's Chat Completions "
            "base URL (e.g. http://127.0.0.1:11434/v1 for Ollama, http://127.0.0.1:8000/v1 "
            "for vLLM).",
            reason="missing_base_url",
            provider=parsed.provider,
        )
    key = _get(env, "OPENAI_API_KEY")
    return OpenAICompatibleModel(
        parsed.model,
        api_key=COMPATIBLE_PLACEHOLDER_KEY
        if key is None
        else _sendable(key, "OPENAI_API_KEY", parsed.provider),
        base_url=base_url,
        settings=settings,
        sleep=sleep,
        rng=rng,
    )
