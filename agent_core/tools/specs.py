"""How command tools are configured, and what every tool's configuration shares: frozen,
strict, checked at load.

These are the ``[commands.NAME]`` tables of ``SIGNOFF_CONFIG`` after ``${VAR}`` expansion
(``mcp_spec`` has ``[mcp.servers.NAME]``). Unknown keys and bad values are errors; nothing
here starts a process.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from approvals import parse_duration

from .code_argument import code_arguments
from .env_secrets import secret_values
from .regex_risk import backtracking_risk

__all__ = [
    "SERVER_NAME",
    "TOOL_NAME",
    "CommandSpec",
    "EnvName",
    "ParamSpec",
    "Strict",
    "Template",
    "Timed",
    "check_duration",
    "named",
    "no_nul",
    "parse_template",
]

# What every model provider accepts as a tool name.
TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
# A server's tools are named <server>__<tool>: the server name itself has no "__".
SERVER_NAME = re.compile(r"(?=.{1,30}$)[A-Za-z0-9-]+(?:_[A-Za-z0-9-]+)*")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|[{}]")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def no_nul(where: str, values: Iterable[str]) -> None:
    # Checked here: the exec fails ("embedded null byte") at every call, never at load.
    if any("\0" in value for value in values):
        raise ValueError(f"{where} holds a NUL character, which no program can be given")


def named(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(name: str) -> str:
        if not pattern.fullmatch(name):
            raise ValueError(f"{name!r} is not {what}")
        return name

    return AfterValidator(check)


EnvName = Annotated[str, named(_ENV_NAME, "an environment variable name")]


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def check_duration(value: str) -> str:
    parse_duration(value)
    return value


# A template element: literal text and placeholder names, in order.
Template = tuple[tuple[Literal["text", "param"], str], ...]


def parse_template(element: str) -> Template:
    """``"deployment/{name}"`` → text and placeholder parts; ``{{``/``}}`` are literal braces."""
    parts: list[tuple[Literal["text", "param"], str]] = []
    last = 0
    for match in _PLACEHOLDER.finditer(element):
        if match.start() > last:
            parts.append(("text", element[last : match.start()]))
        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append(("text", token[0]))
        elif match.group(1):
            parts.append(("param", match.group(1)))
        else:
            raise ValueError(
                f"argv element {element!r}: a lone {token!r} (write {token * 2} for a literal brace)"
            )
        last = match.end()
    if last < len(element):
        parts.append(("text", element[last:]))
    return tuple(parts)


class ParamSpec(Strict):
    """One parameter of a command tool, as JSON schema keywords the model also sees."""

    type: Literal["string", "integer", "number", "boolean"] = "string"
    description: str = ""
    pattern: str | None = None
    # Strict, so true stays a boolean (as an int it read as 1).
    enum: tuple[StrictStr | StrictBool | StrictInt | StrictFloat, ...] | None = Field(
        default=None, min_length=1
    )
    # Strict: "5" or true for a number, "false" or 0 for a boolean, are mistakes to say,
    # not values to guess at ("false" read as False ran a command with no approval).
    minimum: StrictFloat | None = Field(default=None, allow_inf_nan=False)
    maximum: StrictFloat | None = Field(default=None, allow_inf_nan=False)
    min_length: StrictInt | None = Field(default=None, ge=0)
    max_length: StrictInt | None = Field(default=None, ge=1)
    default: str | int | float | bool | None = None

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern {value!r} is not a regular expression: {exc}") from None
            risk = backtracking_risk(value)
            if risk:
                raise ValueError(
                    f"pattern {value!r} could take exponential time over a model's argument "
                    f"({risk}): make the inner repeat possessive ([a-z]++) or atomic ((?>…))"
                )
        return value

    @model_validator(mode="after")
    def _fits_type(self) -> ParamSpec:
        text_only = (self.pattern, self.min_length, self.max_length)
        if self.type != "string" and any(v is not None for v in text_only):
            raise ValueError("pattern, min_length and max_length apply to strings only")
        if self.type in ("string", "boolean") and (
            self.minimum is not None or self.maximum is not None
        ):
            raise ValueError("minimum and maximum apply to numbers only")
        for low, high in (("minimum", "maximum"), ("min_length", "max_length")):
            least, most = getattr(self, low), getattr(self, high)
            if least is not None and most is not None and least > most:
                raise ValueError(f"{low} {least:g} is above {high} {most:g}: no value fits")
        # The default fills an argv element unchecked, and the model is shown it: it must
        # be a value the parameter itself accepts, as must every enum value.
        own = self.json_schema()
        own.pop("default", None)
        checks = [("enum", v, {**own, "enum": None}) for v in self.enum or ()]
        if self.default is not None:
            checks.append(("default", self.default, own))
        for key, value, schema in checks:
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{key} must be a finite number")  # no JSON can carry it
            schema = {k: v for k, v in schema.items() if v is not None}
            from jsonschema import Draft202012Validator  # only a command tool's check needs it

            error = next(iter(Draft202012Validator(schema).iter_errors(value)), None)
            if error is not None:
                raise ValueError(f"{key} {value!r} does not fit the parameter: {error.message}")
            if not self.matches_whole(value):
                raise ValueError(f"{key} {value!r} does not match the whole pattern")
        return self

    def matches_whole(self, value: object) -> bool:
        """JSON schema's ``pattern`` matches anywhere in a value; a command's must match
        all of it, anchored or not: ``[a-z]+`` written for a name never lets ``a; b`` by."""
        if self.pattern is None or not isinstance(value, str):
            return True
        return re.fullmatch(self.pattern, value) is not None

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.type}
        if self.description:
            schema["description"] = self.description
        for key, value in (
            ("pattern", self.pattern),
            ("enum", list(self.enum) if self.enum is not None else None),
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("minLength", self.min_length),
            ("maxLength", self.max_length),
            ("default", self.default),
        ):
            if value is not None:
                schema[key] = value
        return schema


class Timed(Strict):
    """A spec with a ``timeout`` (``90s``, ``2m``), checked at load."""

    timeout: str

    _check_timeout = field_validator("timeout")(check_duration)

    @property
    def timeout_seconds(self) -> float:
        return float(parse_duration(self.timeout))


class CommandSpec(Timed):
    """``[commands.NAME]``: an argv run without a shell, its placeholders from parameters."""

    description: str = Field(min_length=1)
    argv: tuple[str, ...] = Field(min_length=1)
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    requires_approval: StrictBool = True
    timeout: str = "60s"
    env: dict[EnvName, SecretStr] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _param_names(cls, value: dict[str, ParamSpec]) -> dict[str, ParamSpec]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", name):
                raise ValueError(f"parameter name {name!r}: use letters, digits and _")
        return value

    @model_validator(mode="after")
    def _placeholders(self) -> CommandSpec:
        no_nul("argv", self.argv)
        no_nul("env", (v.get_secret_value() for v in self.env.values()))
        program = self.argv[0]
        if not program or "{" in program:
            raise ValueError("argv[0], the program, must be fixed text")
        # It runs in its session's workspace, where no relative path leads (nor `~`).
        if program.startswith("~") or ("/" in program and not program.startswith("/")):
            why = ": no shell expands '~'" if program[0] == "~" else " is a relative path"
            raise ValueError(
                f"argv[0] {program!r}{why}, and a command runs in its session's "
                "workspace: give the program's absolute path (or a name on PATH)"
            )
        used = {
            name
            for element in self.argv
            for kind, name in parse_template(element)
            if kind == "param"
        }
        unknown = sorted(used - set(self.params))
        if unknown:
            raise ValueError(f"argv uses {{{unknown[0]}}}, which is not in params")
        unused = sorted(set(self.params) - used)
        if unused:
            raise ValueError(f"params.{unused[0]} is not used in argv")
        for code, how in code_arguments(self.argv):
            for kind, name in parse_template(self.argv[code]):
                param = self.params[name] if kind == "param" else None
                if param and param.type == "string" and not (param.enum or param.pattern):
                    raise ValueError(
                        f"argv: {{{name}}} is in the code `{how}` runs, where a value is code "
                        f"(`; rm -rf /` would run): pass {{{name}}} after the code as an "
                        'argument of its own and read it there ("$1" in a shell script, '
                        "sys.argv[1] in Python), or hold it to an enum or a pattern"
                    )
        return self

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values of ``env`` named as secrets, and passwords of URLs in the others:
        masked wherever they would be shown."""
        return secret_values(self.env)
