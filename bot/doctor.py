"""``signoff doctor``: what ``signoff run`` depends on, checked before it runs.

The model (one cheap call, ``agent_core.providers.doctor``), the Slack tokens
(``doctor_slack``), the tools: each MCP server started and asked for its tools, as at
start-up, how many tools there are in all beside how many the model's provider takes in
a request (``tool_count``), and the policy, loaded, its rules' tools looked up and the
user groups it names asked of Slack (``doctor_groups``), and the home: writable, with
room left (``doctor_home``). One
line each, ``ok:`` or ``problem:``; exit 1 when anything is wrong. Nothing is posted,
and a home that does not exist is not made.
"""

from __future__ import annotations

import logging
import os

from agent_core.providers import doctor as model_doctor
from agent_core.tools import ToolRegistry, ToolSource
from approvals import PolicyError
from sessions import Home

from .config import Settings
from .config_file import SignoffConfig
from .doctor_groups import check_groups
from .doctor_home import check_home
from .doctor_slack import Check, check_slack
from .errors import ConfigError
from .terminal_text import printable
from .tool_count import count_tools
from .tooling import build_registry

__all__ = ["run_doctor"]


def _server(source: ToolSource) -> Check:
    """An MCP server: up with its tools, or why it is down."""
    problem = source.problem()
    if problem is not None:
        return Check(False, f"{source.label} is down: {problem}")
    tools = source.tools()
    free = sum(1 for t in tools if t.exemption)
    return Check(
        True,
        f"{source.label} is up: {len(tools)} tools offered, {free} of them "
        "without an approval (no_approval)",
    )


async def _policy(settings: Settings, config: SignoffConfig, registry: ToolRegistry) -> list[Check]:
    """The policy ``run`` would load, its rules' tools, as its start-up checks them, and
    the user groups it names (``doctor_groups``)."""
    try:
        policy = settings.policy(config)
        registry.check_policy(policy)
    except (ConfigError, PolicyError) as exc:
        return [Check(False, f"policy: {exc}")]
    loaded = Check(True, f"policy: {policy.source}, {len(policy.tools)} tool rule(s)")
    return [loaded, *await check_groups(settings, policy)]


async def _tools(settings: Settings) -> list[Check]:
    """One check per MCP server, how many tools are offered beside the model's limit, then
    the policy against the tools."""
    config = settings.config()
    # Its stderr is kept where the bot keeps it, but only in a home that exists. What the
    # bot would log of a server down is this check's own line here.
    quiet = logging.getLogger("signoff.mcp")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        registry = await build_registry(settings, config, mcp_logs=settings.home.is_dir())
    except ConfigError as exc:  # a module that does not import, a name defined twice
        return [Check(False, str(exc))]
    finally:
        quiet.setLevel(level)
    try:
        checks = list(map(_server, registry.sources()))
        count = count_tools(registry, settings.model)
        checks.append(Check(count.ok, count.line))
        return [*checks, *await _policy(settings, config, registry)]
    finally:
        await registry.aclose()


async def run_doctor(settings: Settings) -> int:
    report = await model_doctor(
        settings.model, env=os.environ, max_tokens=settings.max_output_tokens
    )
    latency = f" ({report.latency_ms:.0f} ms)" if report.latency_ms is not None else ""
    # The message quotes what the server wrote (its error's text): shown, never acted on.
    print(f"{'ok' if report.ok else 'problem'}: {printable(report.message)}{latency}")
    slack = await check_slack(settings)
    if not slack:
        print("Slack: not set (SLACK_BOT_TOKEN, SLACK_APP_TOKEN): signoff run needs both")
    checks = [check_home(Home(settings.home)), *slack, *await _tools(settings)]
    for check in checks:
        print(f"{'ok' if check.ok else 'problem'}: {printable(check.line)}")
    return 0 if report.ok and all(c.ok for c in checks) else 1
