"""The tools signoff offers, built in one place for ``run``, ``dev`` and every CLI command
that may run an approved call (``approve``, ``deny``, ``recover``, ``say``).

In order: the MCP servers of ``SIGNOFF_CONFIG`` (started here, at start-up, each
connecting within its ``timeout``; one that is down does not stop signoff), the demo
fleet (only when ``Settings.demo_tools``), the ``TOOLS`` lists of ``SIGNOFF_TOOLS``
modules, and the config's commands. A name defined twice is a ``ConfigError``.
"""

from __future__ import annotations

import importlib
import logging

from agent_core.backoff import Backoff
from agent_core.engine import Engine
from agent_core.live import GuardedLiveView, LiveView, NullLiveView
from agent_core.observe import NullObserver, Observer
from agent_core.runtime import SYSTEM_PROMPT
from agent_core.surface import Surface
from agent_core.thread_wait import ThreadWait
from agent_core.tools import DuplicateToolError, Tool, ToolRegistry
from approvals import GroupResolver, NoGroups
from sessions import Clock, Home

from .config import Settings
from .config_file import SignoffConfig
from .errors import ConfigError
from .models import build_budgets, build_cost, build_model
from .tool_count import NO_TOOLS, count_tools

__all__ = ["NO_TOOLS_PROMPT", "build_registry", "import_tool_modules", "open_engine"]

log = logging.getLogger("signoff")

NO_TOOLS_PROMPT = (
    SYSTEM_PROMPT + " No tools are configured in this deployment: you cannot look at or "
    "change any system. Say so plainly when asked to act, and that an operator adds tools "
    "with SIGNOFF_CONFIG (MCP servers, commands) or SIGNOFF_TOOLS."
)


def _module_tools(name: str) -> list[Tool]:
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise ConfigError(f"SIGNOFF_TOOLS: cannot import {name}: {exc}") from None
    except SystemExit as exc:  # a script made a module: not signoff's own exit status
        raise ConfigError(
            f"SIGNOFF_TOOLS: importing {name} failed: it called sys.exit({exc.code!r})"
        ) from None
    except Exception as exc:  # a broken module is a configuration error, not a crash
        raise ConfigError(
            f"SIGNOFF_TOOLS: importing {name} failed: {type(exc).__name__}: {exc}"
        ) from None
    tools = getattr(module, "TOOLS", None)
    if not isinstance(tools, list | tuple) or not all(isinstance(t, Tool) for t in tools):
        raise ConfigError(f"SIGNOFF_TOOLS: {name} must define TOOLS, a list of @tool functions")
    return list(tools)


def import_tool_modules(settings: Settings) -> None:
    """Import the SIGNOFF_TOOLS modules now, for ``run`` and ``dev`` to call before their
    event loop: a module that takes its time (it connects somewhere, or hangs) would
    otherwise be imported inside the bot's build, on the loop, where no SIGTERM is
    answered until the import returns. Here a signal still stops the process (``cli``'s
    handler while it loads); the build then finds them imported."""
    for module in settings.tool_modules:
        _module_tools(module)


def _assemble(settings: Settings, config: SignoffConfig, *, mcp_logs: bool) -> ToolRegistry:
    registry = ToolRegistry()
    if config.mcp.servers:
        from agent_core.tools.mcp_server import McpServer  # the SDK is slow to import

        logs = settings.home / "logs" / "mcp" if mcp_logs else None
        for name, spec in config.mcp.servers.items():
            registry.add_source(McpServer(name, spec, log_dir=logs))
    if settings.demo_tools:
        from agent_core.demo_fleet import demo_registry

        for t in demo_registry().tools():
            registry.register(t, origin="the demo fleet")
    for module in settings.tool_modules:
        for t in _module_tools(module):
            registry.register(t, origin=f"SIGNOFF_TOOLS module {module}")
    if config.commands:
        from agent_core.tools.command import CommandTool

        for name, command in config.commands.items():
            origin = f"[commands.{name}] in {settings.config_path}"
            registry.register(CommandTool(name=name, spec=command), origin=origin)
    return registry


async def build_registry(
    settings: Settings, config: SignoffConfig | None = None, *, mcp_logs: bool = True
) -> ToolRegistry:
    """Every configured tool, with MCP servers started; close it with ``aclose``.
    ``mcp_logs`` False: what stdio servers write to stderr is not kept in the home."""
    config = settings.config() if config is None else config
    try:
        registry = _assemble(settings, config, mcp_logs=mcp_logs)
    except DuplicateToolError as exc:
        raise ConfigError(str(exc)) from None
    await registry.start()
    return registry


async def open_engine(
    settings: Settings,
    *,
    surface: Surface | None,
    clock: Clock | None = None,
    groups: GroupResolver | None = None,
    observer: Observer | None = None,
    live: LiveView | None = None,
    warn_no_tools: bool = True,
    deliver_now: bool = True,
    thread_wait: ThreadWait | None = None,
    delivery_backoff: Backoff | None = None,
    tools_elsewhere: bool = False,
    model_retry_scale: float = 1.0,
) -> Engine:
    """The engine with its tools; the registry is closed with the engine (or on failure).
    ``warn_no_tools``: say that no tools are configured (not for a decision alone);
    ``deliver_now`` False: queued Slack writes go out from ``Engine.start_delivery``;
    ``tools_elsewhere``: a terminal's, which leaves to the bot an approved call whose tool
    it lacks (``Runtime.tools_elsewhere``); ``model_retry_scale``: see ``build_model``."""
    config = settings.config()
    policy = settings.policy(config)  # a bad policy stops start-up before a server starts
    model = build_model(
        settings.model,
        history_chars=settings.history_chars,
        prompt_cache=settings.anthropic_cache,
        max_output_tokens=settings.max_output_tokens,
        retry_scale=model_retry_scale,
    )
    registry = await build_registry(settings, config)
    try:
        engine = await Engine.open(
            home=Home(settings.home),
            model=model,
            registry=registry,
            surface=surface,
            clock=clock,
            policy=policy,
            groups=groups or NoGroups(),
            budgets=build_budgets(settings),
            cost=build_cost(settings),
            system_prompt=SYSTEM_PROMPT if registry.configured else NO_TOOLS_PROMPT,
            observer=observer or NullObserver(),
            approvals_channel=settings.approvals_channel or "",
            live=GuardedLiveView(live) if live is not None else NullLiveView(),
            deliver_now=deliver_now,
            thread_wait=thread_wait,
            delivery_backoff=delivery_backoff,
            tools_elsewhere=tools_elsewhere,
        )
    except BaseException:
        await registry.aclose()
        raise
    if warn_no_tools and not registry.configured:
        log.warning(NO_TOOLS)
    count = count_tools(registry, settings.model)
    if not count.ok:
        # A warning, not a refusal: MCP servers still starting, and listings that change
        # while signoff runs, make the count at start-up neither final nor the one that
        # matters; each model call checks its own (docs/tools.md#how-many-tools).
        log.warning("%s", count.line)
    return engine
