"""Command tools: an argv from configuration, run without a shell.

Placeholders are filled only from arguments validated against the tool's JSON schema,
and each argv element is substituted whole, so a value is always exactly one argument:
``; rm -rf /`` or ``$(…)`` reach the program as inert text. Values may not contain
control characters (a newline, NUL), and may not turn an argument into an option (a
leading ``-`` where the template has none), unless that element follows ``--`` with only
placeholders between, or is a value the config lists (an ``enum`` value, the ``default``).

The process gets a minimal environment (``PATH``, ``HOME``, ``LANG``, ``PYTHONSAFEPATH``)
plus the tool's ``env`` and ``SIGNOFF_APPROVAL_ID`` / ``SIGNOFF_SESSION_ID``; how it runs (in the session's
workspace, in a process group of its own) and what the model reads of it: ``command_run``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .base import Tool, ToolContext, schema_version
from .command_run import OUTPUT_LIMIT_BYTES, run_command
from .env_secrets import setting_values
from .json_schema import PATTERN_TEXT_LIMIT, SchemaChecker
from .specs import CommandSpec, Template, parse_template

__all__ = ["CommandTool"]

# C0, DEL and C1 controls, and Unicode's own line and paragraph separators: each is a line
# break or a terminal escape to some program.
_CONTROL = {chr(c) for c in (*range(32), *range(0x7F, 0xA0))} | {"\u2028", "\u2029"}
# Linux takes at most this many bytes in one argument (MAX_ARG_STRLEN, its NUL included):
# a longer one fails at exec, after its approval, as a call that can never run.
ARGUMENT_LIMIT_BYTES = 128 << 10


def _base_env() -> dict[str, str]:
    # Python 3.11+ puts no directory of its own first on sys.path: `python3 -c`/`-m` put
    # the current one there, a command's is the workspace, and a module an earlier call
    # left in it (`json.py`) ran inside an approved call. A tool's env may set it "".
    env = {"LANG": "C.UTF-8", "PYTHONSAFEPATH": "1"}
    for name in ("PATH", "HOME"):
        value = os.environ.get(name)
        if value:
            env[name] = value
    env.setdefault("PATH", os.defpath)
    return env


def _searched_path(path: str, *, home: str | None) -> str:
    """``path`` with only absolute entries: an empty or relative one (":/app", ".") is
    searched in the workspace, where a command may have left a program by the configured
    name. A leading ``~`` names the home, as bash reads it when it searches (a unit's or a
    Dockerfile's PATH=~/bin:… is not expanded for us): expanded, not dropped."""
    entries = []
    for entry in path.split(os.pathsep):
        if entry == "~" or entry.startswith("~/"):
            entry = f"{home}{entry[1:]}" if home else entry
        elif entry.startswith("~"):
            entry = os.path.expanduser(entry)  # ~user: from the password database
        if os.path.isabs(entry):
            entries.append(entry)
    return os.pathsep.join(entries) or os.defpath


class CommandTool(Tool):
    def __init__(self, *, name: str, spec: CommandSpec) -> None:
        super().__init__(
            name=name, description=spec.description, timeout_seconds=spec.timeout_seconds
        )
        self.spec_config = spec
        self.output_limit = OUTPUT_LIMIT_BYTES
        self._templates: tuple[Template, ...] = tuple(parse_template(a) for a in spec.argv)
        self._schema: dict[str, Any] = {
            "type": "object",
            "properties": {n: p.json_schema() for n, p in spec.params.items()},
            "required": sorted(n for n, p in spec.params.items() if p.default is None),
            "additionalProperties": False,
        }
        self._checker = SchemaChecker(name, self._schema)

    @property
    def schema(self) -> dict[str, Any]:
        return self._schema

    @property
    def version(self) -> str:
        """The schema and what runs: an argv, the names of its environment or a setting
        there (``NS = "staging"`` made ``"prod"``) edited between a request and its approval
        is not the command anybody approved. Never a secret's value (nor a URL's password):
        a rotated secret is the same command."""
        config = self.spec_config
        pinned: dict[str, Any] = {
            "schema": self._schema,
            "argv": list(config.argv),
            "env": sorted(config.env),
        }
        settings = setting_values(config.env)
        if settings:  # a command without settings keeps the version it had before
            pinned["settings"] = settings
        return schema_version(pinned)

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        checked = self._checker.validate(arguments)
        for name, param in self.spec_config.params.items():
            if name not in checked and param.default is not None:
                checked[name] = param.default
            if param.type == "integer" and isinstance(checked.get(name), float):
                checked[name] = int(checked[name])  # JSON schema's integer takes 3.0: pass "3"
        for name, value in checked.items():
            if isinstance(value, str) and _CONTROL & set(value):
                raise ValueError(
                    f"invalid arguments for {self.name}: {name}: control characters "
                    "(a newline, a tab, NUL) are not allowed"
                )
            param = self.spec_config.params[name]
            if param.pattern and isinstance(value, str) and len(value) > PATTERN_TEXT_LIMIT:
                raise ValueError(
                    f"invalid arguments for {self.name}: {name}: over "
                    f"{PATTERN_TEXT_LIMIT:,} characters, too long to check against its pattern"
                )
            if not param.matches_whole(value):
                shown = value if len(value) <= 80 else value[:79] + "…"
                raise ValueError(
                    f"invalid arguments for {self.name}: {name}: {shown!r} does not match "
                    f"{param.pattern!r} as a whole"
                )
        self.argv(checked)  # refuses a value that would become an option
        return checked

    def argv(self, arguments: Mapping[str, Any]) -> list[str]:
        """The argv for validated arguments: each element substituted whole."""
        out: list[str] = []
        options_end = False
        for template in self._templates:
            element = "".join(
                _text(arguments[value]) if kind == "param" else value for kind, value in template
            )
            introduced_dash = template[0][0] == "param" if template else False
            if (
                element.startswith("-")
                and introduced_dash
                and not options_end
                and not self._operators_value(template, arguments)
            ):
                raise ValueError(
                    f"invalid arguments for {self.name}: {element!r} would be read as an option "
                    "(a value may not start with '-')"
                )
            size = len(os.fsencode(element))  # what exec is given
            if size >= ARGUMENT_LIMIT_BYTES:
                raise ValueError(
                    f"invalid arguments for {self.name}: an argument of {size:,} bytes is too "
                    f"long for one argument (at most {ARGUMENT_LIMIT_BYTES - 1:,})"
                )
            if all(kind == "text" for kind, _ in template):
                # A fixed word after `--` may be the program it ends the options of runs
                # (`kubectl exec pod -- rm {file}`), whose own options are read again.
                options_end = element == "--"
            out.append(element)
        return out

    def _operators_value(self, template: Template, arguments: Mapping[str, Any]) -> bool:
        """Is the element one placeholder holding a value the config itself lists (an
        ``enum`` value, the ``default``)? An option chosen there is the operator's."""
        if len(template) != 1:
            return False
        name = template[0][1]
        param, value = self.spec_config.params[name], arguments[name]
        return value in (param.enum or ()) or value == param.default

    def gated(self, arguments: dict[str, Any]) -> bool:
        return self.spec_config.requires_approval

    @property
    def exemption(self) -> str:
        if self.spec_config.requires_approval:
            return ""
        return f"requires_approval = false in [commands.{self.name}]"

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.spec_config.secrets

    def environment(self, context: ToolContext) -> dict[str, str]:
        env = _base_env()
        env.update({k: v.get_secret_value() for k, v in self.spec_config.env.items()})
        env["PATH"] = _searched_path(env.get("PATH", ""), home=env.get("HOME"))
        env["SIGNOFF_APPROVAL_ID"] = context.approval_id
        env["SIGNOFF_SESSION_ID"] = context.session_id
        return env

    async def call(self, arguments: dict[str, Any], context: ToolContext) -> str:
        return await run_command(
            self.argv(self.validate(arguments)),
            tool=self.name,
            call_id=context.call_id,
            workspace=context.workspace,
            env=self.environment(context),
            timeout_seconds=self.timeout_seconds,
            output_limit=self.output_limit,
            secrets=self.secrets,
        )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
