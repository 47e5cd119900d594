"""Settings from the environment, validated at start-up: fail closed, say what is wrong.

Tokens come from the environment only; they are kept out of ``repr`` so they never
reach a log, a trace or a card. Tools and policy may also come from ``SIGNOFF_CONFIG``
(``config_file``); the registry is built from both in ``tooling``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from approvals import Policy, PolicyError, load_policy
from sessions import check_http_url, without_credentials

from .config_file import SignoffConfig, load_config
from .env_values import (
    existing_default,
    parse_bind,
    path_setting,
    steering,
    switch,
    unknown_settings,
)
from .errors import ConfigError

__all__ = ["KNOWN", "ConfigError", "Settings", "parse_bind", "refuse_unknown"]

# Every SIGNOFF_* variable signoff reads; any other is a typo and stops start-up. The last
# five steer tests and benchmarks only.
KNOWN = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "SIGNOFF_HOME",
    "SIGNOFF_MODEL",
    "SIGNOFF_CONFIG",
    "SIGNOFF_POLICY",
    "SIGNOFF_TOOLS",
    "SIGNOFF_DEMO",
    "SIGNOFF_BUDGET_TOKENS",
    "SIGNOFF_BUDGET_USD",
    "SIGNOFF_MAX_CALLS_PER_REPLY",
    "SIGNOFF_HISTORY_CHARS",
    "SIGNOFF_ANTHROPIC_CACHE",
    "SIGNOFF_MAX_OUTPUT_TOKENS",
    "SIGNOFF_PRICE_TABLE",
    "SIGNOFF_HTTP",
    "SIGNOFF_LOG_FORMAT",
    "SIGNOFF_LOG_LEVEL",
    "SIGNOFF_DRAIN_S",
    "SIGNOFF_SLACK_TIMEOUT_S",
    "SIGNOFF_APPROVALS_CHANNEL",
    "SIGNOFF_FAILPOINT",
    "SIGNOFF_FSYNC",
    "SIGNOFF_BUSY_WAIT_S",
    "SIGNOFF_CHROMIUM",
    "SIGNOFF_UPDATE_SCREENSHOT",
)


# The variable each field is read from, to name it in an error.
_ENV_OF = {
    "home": "SIGNOFF_HOME",
    "model": "SIGNOFF_MODEL",
    "policy_path": "SIGNOFF_POLICY",
    "config_path": "SIGNOFF_CONFIG",
    "tool_modules": "SIGNOFF_TOOLS",
    "demo_tools": "SIGNOFF_DEMO",
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_api_url": "SLACK_API_URL",
    "budget_tokens": "SIGNOFF_BUDGET_TOKENS",
    "budget_usd": "SIGNOFF_BUDGET_USD",
    "max_calls_per_reply": "SIGNOFF_MAX_CALLS_PER_REPLY",
    "history_chars": "SIGNOFF_HISTORY_CHARS",
    "max_output_tokens": "SIGNOFF_MAX_OUTPUT_TOKENS",
    "price_table": "SIGNOFF_PRICE_TABLE",
    "http": "SIGNOFF_HTTP",
    "log_format": "SIGNOFF_LOG_FORMAT",
    "log_level": "SIGNOFF_LOG_LEVEL",
    "drain_s": "SIGNOFF_DRAIN_S",
    "slack_timeout_s": "SIGNOFF_SLACK_TIMEOUT_S",
    "approvals_channel": "SIGNOFF_APPROVALS_CHANNEL",
}
_SECRET = {"slack_bot_token", "slack_app_token"}
_SLACK_API = "https://slack.com/api/"


def refuse_unknown(env: Mapping[str, str]) -> None:
    """A SIGNOFF_* variable signoff does not read is taken for a typo: a ConfigError
    naming it (and the name it was likely meant to be); so is a value of one that steers
    tests (``steering``), which no field of ``Settings`` checks."""
    unknown = sorted(k for k in env if k.startswith("SIGNOFF_") and k not in KNOWN)
    if unknown:
        raise ConfigError(unknown_settings(unknown, KNOWN))
    steering(env)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    home: Path
    model: str = "offline"
    policy_path: Path | None = None
    # SIGNOFF_CONFIG, or $SIGNOFF_HOME/signoff.toml when that exists.
    config_path: Path | None = None
    tool_modules: tuple[str, ...] = ()
    # The simulated fleet: signoff dev and demo always, signoff run only with SIGNOFF_DEMO=1.
    demo_tools: bool = False
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None
    # Per-session budgets: tokens always, USD when the model has a price.
    budget_tokens: int = Field(default=200_000, gt=0)
    budget_usd: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    price_table: Path | None = None
    # The most tool calls one model reply may make (agent_core/call_cap.py): a reply of
    # 60 gated calls posted 60 cards. Over 1,000 is no cap at all.
    max_calls_per_reply: int = Field(default=16, ge=1, le=1_000)
    # About how many characters of a long thread each model call is sent (its latest part).
    history_chars: int = Field(default=120_000, ge=1_000, le=100_000_000)
    # Whether Anthropic requests mark prompt-cache breakpoints (providers/anthropic_cache).
    anthropic_cache: bool = True
    # The output limit of each model call; None: the provider's (16,384; 4,096 for an
    # openai-compatible server). Under 256 hardly any answer fits; over 128,000 no
    # model allows it, and every call would be refused.
    max_output_tokens: int | None = Field(default=None, ge=256, le=128_000)
    # Operators: where /healthz, /readyz and /metrics listen ("off": nowhere), the log
    # format (None: text on a terminal, JSON otherwise) and level (None: the command's
    # default), and how long SIGTERM lets running turns finish.
    http: str = "127.0.0.1:9464"
    log_format: Literal["json", "text"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = None
    drain_s: float = Field(default=20.0, ge=0, le=3600, allow_inf_nan=False)
    # How long one Slack Web API call may take before it is given up (slack_sdk's default;
    # whole seconds, as slack_sdk takes them): a Slack that hangs holds no more than this.
    slack_timeout_s: int = Field(default=30, ge=1, le=600)
    # Where gated calls asked in a direct message are decided (a channel id); None: they
    # are refused, and the person is told to ask in a channel.
    approvals_channel: str | None = None

    @field_validator("approvals_channel")
    @classmethod
    def _approvals_channel(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if re.fullmatch(r"[CG][A-Z0-9]{2,39}", value):
            return value
        if value.startswith("D"):
            raise ValueError(
                f"must be a channel where approvers are, not a direct message ({value!r})"
            )
        raise ValueError(
            f"must be a channel id such as C0123ABCD (not a name like #approvals), not {value!r}"
        )

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = check_http_url(value, example=_SLACK_API)
        if urlsplit(url).username is not None:
            # Slack's client sends the bot token as the Authorization header, and aiohttp
            # refuses a request that also has credentials in its URL: every call would fail.
            raise ValueError(
                "must not hold a user name or password (the bot token is what Slack's "
                f"client sends), not {without_credentials(url)!r}"
            )
        return url

    @field_validator("http")
    @classmethod
    def _http(cls, value: str) -> str:
        parse_bind(value)
        return value

    @property
    def http_bind(self) -> tuple[str, int] | None:
        """(host, port) for the operators' HTTP server, or None when it is off."""
        return parse_bind(self.http)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token (xoxb-…)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token (xapp-…)")
        return value

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            try:  # bytes Python holds as lone surrogates fail where printed (a path)
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ConfigError(f"configuration: {name} is not UTF-8 text") from None
            return value or None

        refuse_unknown(env)
        tools = get("SIGNOFF_TOOLS")
        home = path_setting("SIGNOFF_HOME", get("SIGNOFF_HOME") or ".signoff")
        named = get("SIGNOFF_CONFIG")
        config = path_setting("SIGNOFF_CONFIG", named) if named else home / "signoff.toml"
        demo = switch("SIGNOFF_DEMO", get("SIGNOFF_DEMO"), default=False, say="1 or 0")
        cache = switch(
            "SIGNOFF_ANTHROPIC_CACHE", get("SIGNOFF_ANTHROPIC_CACHE"), default=True, say="on or off"
        )
        try:
            return cls(
                home=home,
                model=get("SIGNOFF_MODEL") or "offline",
                policy_path=path_setting("SIGNOFF_POLICY", p)
                if (p := get("SIGNOFF_POLICY"))
                else None,
                # Named explicitly, it must exist; the default only when it does.
                config_path=config if named or existing_default(config, home) else None,
                demo_tools=demo,
                tool_modules=tuple(t.strip() for t in tools.split(",") if t.strip())
                if tools
                else (),
                slack_bot_token=get("SLACK_BOT_TOKEN"),
                slack_app_token=get("SLACK_APP_TOKEN"),
                slack_api_url=get("SLACK_API_URL"),
                budget_tokens=get("SIGNOFF_BUDGET_TOKENS") or 200_000,
                budget_usd=get("SIGNOFF_BUDGET_USD"),
                max_calls_per_reply=get("SIGNOFF_MAX_CALLS_PER_REPLY") or 16,
                history_chars=get("SIGNOFF_HISTORY_CHARS") or 120_000,
                anthropic_cache=cache,
                max_output_tokens=get("SIGNOFF_MAX_OUTPUT_TOKENS"),
                price_table=path_setting("SIGNOFF_PRICE_TABLE", p)
                if (p := get("SIGNOFF_PRICE_TABLE"))
                else None,
                http=get("SIGNOFF_HTTP") or "127.0.0.1:9464",
                log_format=(get("SIGNOFF_LOG_FORMAT") or "").lower() or None,
                log_level=(get("SIGNOFF_LOG_LEVEL") or "").upper() or None,
                drain_s=get("SIGNOFF_DRAIN_S") or 20.0,
                slack_timeout_s=get("SIGNOFF_SLACK_TIMEOUT_S") or 30,
                approvals_channel=get("SIGNOFF_APPROVALS_CHANNEL"),
            )
        except ValidationError as exc:
            raise _env_error(exc) from None

    def slack_tokens(self) -> tuple[SecretStr, SecretStr]:
        """The bot and app tokens ``run`` needs; a ConfigError naming them if one is unset."""
        if self.slack_bot_token is None or self.slack_app_token is None:
            raise ConfigError(
                "signoff run needs SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…)"
            )
        return self.slack_bot_token, self.slack_app_token

    def config(self, env: Mapping[str, str] | None = None, *, expand: bool = True) -> SignoffConfig:
        """The SIGNOFF_CONFIG file, validated (an empty config when there is none);
        ``expand``: as ``config_file.load_config`` takes it."""
        if self.config_path is None:
            return SignoffConfig()
        with _named_by("SIGNOFF_CONFIG"):
            return load_config(self.config_path, os.environ if env is None else env, expand=expand)

    def policy(self, config: SignoffConfig | None = None) -> Policy:
        """From SIGNOFF_POLICY or the config's [policy]; both at once is an error, since
        which one governs would otherwise be a guess."""
        config = self.config() if config is None else config
        if config.policy is not None:
            if self.policy_path is not None:
                raise ConfigError(
                    f"the policy is given twice: SIGNOFF_POLICY={self.policy_path} and [policy] "
                    f"in {self.config_path}; keep one"
                )
            with _named_by("SIGNOFF_CONFIG"):
                return Policy.from_mapping(config.policy, source=f"{self.config_path} [policy]")
        with _named_by("SIGNOFF_POLICY"):
            return load_policy(self.policy_path)


@contextmanager
def _named_by(name: str) -> Iterator[None]:
    """An error in a file a setting names says which setting: the file's path alone leaves
    the reader to guess why signoff read it."""
    try:
        yield
    except (ConfigError, PolicyError) as exc:
        if str(exc).startswith(f"{name}:"):
            raise
        raise type(exc)(f"{name}: {exc}") from None


def _env_error(exc: ValidationError) -> ConfigError:
    """The first problem, named by the variable it came from (which a user typed), with the
    value given unless it is a token or our own message already quotes it."""
    first = exc.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    given = first.get("input")
    if first["type"] != "value_error" and field not in _SECRET and isinstance(given, str):
        message += f", not {given!r}"
    return ConfigError(f"configuration: {_ENV_OF.get(field, field or 'settings')}: {message}")
