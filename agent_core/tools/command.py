"""Command tools: an argv from configuration, run without a shell.

Placeholders are filled only from arguments validated against the tool's JSON schema,
and each argv element is substituted whole, so a value is always exactly one argument:
``; rm -rf /`` or ``$(…)`` reach the program as inert text. Values may not contain
control characters (a newline, NUL), and may not turn an argument into an option (a
leading ``-`` where the template has none), unless that element follows ``--`` with only
placeholders between, or is a value the config lists (an ``enum`` value, the ``default``).

The process gets a minimal environment (``PATH``, ``HOME``, ``LANG``) plus the tool's
``env`` and ``SIGNOFF_APPROVAL_ID`` / ``SIGNOFF_SESSION_ID``; it runs in the session's
workspace, in its own process group, which the timeout kills as a whole (as does output
past ``OUTPUT_LIMIT_BYTES``, a runaway that would fill the disk). stdout and stderr are
pipes signoff copies to files in the workspace (kept whole) and closes when the call ends;
the model reads the exit code and the first ``OUTPUT_LIMIT`` characters of each.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from ..cancelling import cancel_and_wait
from .base import Tool, ToolContext, ToolError, ToolOutcomeUnknown, schema_version
from .guarded_start import start_guarded
from .json_schema import PATTERN_TEXT_LIMIT, SchemaChecker
from .kept_pipe import KeptPipe
from .output import output_path, read_head
from .specs import CommandSpec, Template, parse_template, setting_values

__all__ = ["CommandTool"]

# C0, DEL and C1 controls, and Unicode's own line and paragraph separators: each is a line
# break or a terminal escape to some program.
_CONTROL = {chr(c) for c in (*range(32), *range(0x7F, 0xA0))} | {"\u2028", "\u2029"}
# Seconds between SIGTERM and SIGKILL for the process group at the timeout.
_KILL_GRACE = 2.0
# Linux takes at most this many bytes in one argument (MAX_ARG_STRLEN, its NUL included):
# a longer one fails at exec, after its approval, as a call that can never run.
ARGUMENT_LIMIT_BYTES = 128 << 10
# The output a command may leave in the workspace (stdout and stderr together): more is
# a runaway that would fill the disk. Its size is looked at this often (seconds).
OUTPUT_LIMIT_BYTES = 64 << 20
_OUTPUT_CHECK = 0.2


class _OutputRanAway(Exception):
    pass


def _base_env() -> dict[str, str]:
    env = {"LANG": "C.UTF-8"}
    for name in ("PATH", "HOME"):
        value = os.environ.get(name)
        if value:
            env[name] = value
    env.setdefault("PATH", os.defpath)
    return env


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
        env["SIGNOFF_APPROVAL_ID"] = context.approval_id
        env["SIGNOFF_SESSION_ID"] = context.session_id
        return env

    async def call(self, arguments: dict[str, Any], context: ToolContext) -> str:
        argv = self.argv(self.validate(arguments))
        out_path = output_path(
            context.workspace, tool=self.name, call_id=context.call_id, stream="stdout"
        )
        err_path = out_path.with_suffix(".stderr")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        with (
            # Read back for the report (the command may remove the paths: it runs in the
            # workspace); unbuffered, so a full disk fails the copy, never the close.
            out_path.open("w+b", buffering=0) as out,
            err_path.open("w+b", buffering=0) as err,
            contextlib.ExitStack() as pipes_open,
        ):
            # Through pipes signoff closes when the call ends: a process that outlived it
            # would otherwise write on in the kept output and change a sealed session.
            pipes: list[KeptPipe] = []
            for handle in (out, err):  # each closed however the call ends (even EMFILE)
                pipes.append(KeptPipe(handle))
                pipes_open.callback(pipes[-1].close)
            kept = (("stdout", out, out_path), ("stderr", err, err_path))
            try:
                # Under a guard that ends the group if signoff dies (``command_guard``).
                proc, control = await start_guarded(
                    argv,
                    stdout=pipes[0].write_fd,
                    stderr=pipes[1].write_fd,
                    env=self.environment(context),
                    cwd=context.workspace,
                )
            except OSError as exc:
                raise ToolError(f"could not start {argv[0]}: {exc.strerror or exc}") from None
            pipes_open.callback(os.close, control)  # closed when the call ends, as they are
            for pipe in pipes:
                pipe.started()
            try:
                async with asyncio.timeout(self.timeout_seconds):  # never swallows a cancel
                    code = await _exit_code(proc, (out, err), self.output_limit)
                # What it left running in its group goes with it.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                pipes_open.close()
                report = _report(code, kept, context.workspace, secrets=self.secrets)
            except (TimeoutError, _OutputRanAway) as exc:
                await _kill_group(proc)
                pipes_open.close()
                report = _report(None, kept, context.workspace, secrets=self.secrets)
                why = (
                    f"timed out after {self.timeout_seconds:g}s"
                    if isinstance(exc, TimeoutError)
                    else f"its output passed {self.output_limit / (1 << 20):g} MiB"
                )
                raise ToolOutcomeUnknown(
                    f"{why}; its process group was killed, "
                    f"so it may have done part of its work. {report}"
                ) from None
            finally:
                if proc.returncode is None:  # cancelled: never leave it running
                    await asyncio.shield(_kill_group(proc))
        if code < 0:
            # Killed from outside (the OOM killer, a person): it never said it failed.
            raise ToolOutcomeUnknown(
                f"killed by signal {_signal_name(-code)} before it finished, so it may have "
                f"done part of its work. {report}"
            )
        if code != 0:
            raise ToolError(report)
        return report


async def _exit_code(
    proc: asyncio.subprocess.Process, kept: tuple[IO[bytes], ...], limit: int
) -> int:
    """Wait for the program's exit; raise ``_OutputRanAway`` once ``kept`` grow past
    ``limit`` bytes. The kernel writes them straight to disk, so their size is polled,
    through the open files: the program may remove or rename the paths meanwhile."""
    exited = asyncio.ensure_future(proc.wait())
    try:
        while not (await asyncio.wait({exited}, timeout=_OUTPUT_CHECK))[0]:
            if sum(os.fstat(f.fileno()).st_size for f in kept) > limit:
                raise _OutputRanAway
        return exited.result()
    finally:
        if not exited.done():
            await cancel_and_wait(exited)


def _signal_name(number: int) -> str:
    try:
        return f"{number} ({signal.Signals(number).name})"
    except ValueError:
        return str(number)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    for sig, wait in ((signal.SIGTERM, _KILL_GRACE), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            async with asyncio.timeout(wait):
                await proc.wait()
            break
        except TimeoutError:
            continue
    # The leader may be gone while others in its group live on: finish them too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _report(
    code: int | None,
    kept: tuple[tuple[str, IO[bytes], Path], ...],
    workspace: Path,
    *,
    secrets: tuple[str, ...],
) -> str:
    lines = [f"exit code {code}" if code is not None and code >= 0 else "no exit code (killed)"]
    for label, handle, path in kept:
        handle.flush()
        # Read through the open file: the command may have removed or replaced the path.
        there = _same_file(handle, path)
        shown = Path("workspace") / path.relative_to(workspace) if there else None
        text, size = read_head(handle.fileno(), kept=shown, secrets=secrets)
        removed = "" if there else "; the command removed its kept file"
        lines.append(f"--- {label} ({size} bytes{removed})")
        if text:
            lines.append(text.rstrip("\n"))
    return "\n".join(lines)


def _same_file(handle: IO[bytes], path: Path) -> bool:
    try:
        now = path.stat()
    except OSError:
        return False
    held = os.fstat(handle.fileno())
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)
