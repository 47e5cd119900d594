"""Real model providers behind the ``Model`` protocol, chosen by ``SIGNOFF_MODEL``.

- ``model_from_spec(spec, env=...)``: ``anthropic:<m>`` / ``openai:<m>`` /
  ``openai-compatible:<m>`` -> a ``Model``; ``offline`` -> ``None``.
- ``AnthropicModel`` (Messages API) and ``OpenAIModel`` / ``OpenAICompatibleModel``
  (Chat Completions) over the official SDKs, with our own retries (``RetryPolicy``) and
  timeouts (``ModelSettings``); every failure is a ``ProviderError`` whose ``str()`` is
  fit for the user.
- ``to_anthropic`` / ``to_openai`` and ``from_anthropic`` / ``from_openai``: the
  conversion layer between our transcript records and each API.
- ``cost_usd`` / ``load_price_table``: what a reply cost.
- ``doctor(spec, env=...)``: one cheap call that says what is wrong.
- ``tool_limit(spec)``: the most tools one request may carry (OpenAI: 128), where the
  provider documents a cap; a request over it is never sent (``TooManyToolsError``).
"""

from .answer_cap import ANSWER_CHARS_PER_TOKEN, THINKING_TOKENS
from .anthropic_model import AnthropicModel
from .base import ProviderModel
from .convert_anthropic import from_anthropic, to_anthropic, tools_to_anthropic
from .convert_openai import from_openai, to_openai, tools_to_openai
from .doctor import DoctorReport, doctor
from .errors import (
    ProviderAuthError,
    ProviderConfigError,
    ProviderConnectionError,
    ProviderError,
    ProviderModelNotFoundError,
    ProviderOverloadedError,
    ProviderQuotaError,
    ProviderRateLimitError,
    ProviderReplyCutError,
    ProviderRequestError,
    ProviderResponseError,
    ProviderServerError,
    ProviderTimeoutError,
)
from .openai_model import OpenAICompatibleModel, OpenAIModel
from .pricing import DEFAULT_PRICES, Price, PriceTable, cost_usd, load_price_table
from .retry import RetryPolicy, Sleep
from .select import PROVIDERS, ModelSpec, model_from_spec, parse_spec, tool_limit
from .settings import ModelSettings
from .tool_limit import NARROW_TOOLS, ToolLimit, TooManyToolsError
from .transcript import portable_id, portable_name

__all__ = [
    "ANSWER_CHARS_PER_TOKEN",
    "DEFAULT_PRICES",
    "NARROW_TOOLS",
    "PROVIDERS",
    "THINKING_TOKENS",
    "AnthropicModel",
    "DoctorReport",
    "ModelSettings",
    "ModelSpec",
    "OpenAICompatibleModel",
    "OpenAIModel",
    "Price",
    "PriceTable",
    "ProviderAuthError",
    "ProviderConfigError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderModel",
    "ProviderModelNotFoundError",
    "ProviderOverloadedError",
    "ProviderQuotaError",
    "ProviderRateLimitError",
    "ProviderReplyCutError",
    "ProviderRequestError",
    "ProviderResponseError",
    "ProviderServerError",
    "ProviderTimeoutError",
    "RetryPolicy",
    "Sleep",
    "TooManyToolsError",
    "ToolLimit",
    "cost_usd",
    "doctor",
    "from_anthropic",
    "from_openai",
    "load_price_table",
    "model_from_spec",
    "parse_spec",
    "portable_id",
    "portable_name",
    "to_anthropic",
    "to_openai",
    "tool_limit",
    "tools_to_anthropic",
    "tools_to_openai",
]
