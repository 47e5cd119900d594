"""``signoff doctor``: what ``signoff run`` depends on, checked before it runs.

The model (one cheap call, ``agent_core.providers.doctor``), the Slack tokens
(``doctor_slack``) and the tools: each MCP server started and asked for its tools, as at
start-up, and how many tools there are in all beside how many the model's provider takes
in a request (``tool_count``). One line each, ``ok:`` or ``problem:``; exit 1 when anything is wrong. Nothing
is posted, and a home that does not exist is not made.
"""

from __future__ import annotations

import logging
import os

from agent_core.providers import doctor as model_doctor

from .config import Settings
from .doctor_slack import Check, check_slack
from .errors import ConfigError
from .terminal_text import printable
from .tool_count import count_tools
from .tooling import build_registry

__all__ = ["run_doctor"]


async def _tools(settings: Settings) -> list[Check]:
    """One check per MCP server (up with its tools, or why it is down), then how many tools
    are offered beside the model's limit."""
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
        checks = []
        for source in registry.sources():
            problem = source.problem()
            if problem is not None:
                checks.append(Check(False, f"{source.label} is down: {problem}"))
                continue
            tools = source.tools()
            free = sum(1 for t in tools if t.exemption)
            checks.append(
                Check(
                    True,
                    f"{source.label} is up: {len(tools)} tools offered, {free} of them "
                    "without an approval (no_approval)",
                )
            )
        count = count_tools(registry, settings.model)
        if count is not None:
            checks.append(Check(count.ok, count.line))
        return checks
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
    checks = [*slack, *await _tools(settings)]
    for check in checks:
        print(f"{'ok' if check.ok else 'problem'}: {printable(check.line)}")
    return 0 if report.ok and all(c.ok for c in checks) else 1
