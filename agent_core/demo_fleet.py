"""A simulated fleet for the embedded default: every effect is a line in a JSON file.

``$SIGNOFF_HOME/fleet.json`` holds the services and a history of every change, so a
test (or a person) can count restarts and see which approval caused each one. Changes
carry the approval id as an idempotency key: the same approved call applied twice
changes the fleet once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from sessions import file_lock, replace_atomically, utc_iso
from sessions.clock import SystemClock

from .tools import Tool, ToolContext, ToolRegistry, tool

__all__ = ["FLEET_SERVICES", "demo_registry", "fleet_path", "read_fleet"]

FLEET_SERVICES = {
    "api": {"version": "1.4.2", "replicas": 3},
    "web": {"version": "2.0.1", "replicas": 2},
    "worker": {"version": "0.9.7", "replicas": 4},
    "db": {"version": "15.4", "replicas": 1},
}


def fleet_path(home: Path) -> Path:
    return home / "fleet.json"


def _initial() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "services": {
            name: {**spec, "status": "healthy", "restarts": 0}
            for name, spec in FLEET_SERVICES.items()
        },
        "history": [],
    }


def read_fleet(home: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(fleet_path(home).read_text())
    except FileNotFoundError:
        return _initial()
    return data


def _change(ctx: ToolContext, service: str, action: str, **details: Any) -> dict[str, Any]:
    """Apply one change under the fleet lock; a repeated idempotency key is a no-op."""
    home = ctx.home
    home.mkdir(parents=True, exist_ok=True)
    with file_lock(home / "fleet.lock"):
        fleet = read_fleet(home)
        services = fleet["services"]
        if service not in services:
            raise ValueError(f"unknown service {service!r}; known: {', '.join(sorted(services))}")
        key = ctx.approval_id or f"{ctx.session_id}:{action}:{service}:{len(fleet['history'])}"
        for entry in fleet["history"]:
            if entry["key"] == key:
                return {"service": service, "action": action, "already_applied": True, **entry}
        state = services[service]
        if action == "restart":
            state["restarts"] += 1
        elif action == "deploy":
            details["from_version"] = state["version"]
            state["version"] = details["version"]
        elif action == "scale":
            details["from_replicas"] = state["replicas"]
            state["replicas"] = details["replicas"]
        entry = {
            "key": key,
            "action": action,
            "service": service,
            "at": utc_iso(SystemClock().now()),
            "session": ctx.session_id,
            "requested_by": ctx.requester,
            **details,
        }
        fleet["history"].append(entry)
        replace_atomically(fleet_path(home), json.dumps(fleet, indent=2).encode())
    return {"service": service, "action": action, "state": state, **details}


@tool(parallel_safe=True)
def service_status(service: str, ctx: ToolContext) -> dict[str, Any]:
    """Show a service's version, replicas, health and restart count (read-only).

    Args:
        service: the service name, e.g. api, web, worker or db
    """
    services = read_fleet(ctx.home)["services"]
    if service not in services:
        raise ValueError(f"unknown service {service!r}; known: {', '.join(sorted(services))}")
    return {"service": service, **services[service]}


@tool(requires_human_approval=True)
def restart_service(service: str, ctx: ToolContext) -> dict[str, Any]:
    """Restart every replica of a service.

    Args:
        service: the service name, e.g. api, web, worker or db
    """
    return _change(ctx, service, "restart")


@tool(requires_human_approval=True)
def deploy_service(
    service: str,
    version: Annotated[str, Field(pattern=r"^v?\d+(\.\d+){0,3}([-+][\w.]+)?$")],
    ctx: ToolContext,
) -> dict[str, Any]:
    """Deploy a version of a service.

    Args:
        service: the service name, e.g. api, web, worker or db
        version: the version to deploy, e.g. 1.5.0
    """
    return _change(ctx, service, "deploy", version=version)


@tool(requires_human_approval=True)
def scale_service(
    service: str, replicas: Annotated[int, Field(ge=0, le=100)], ctx: ToolContext
) -> dict[str, Any]:
    """Set the number of replicas of a service.

    Args:
        service: the service name, e.g. api, web, worker or db
        replicas: how many replicas to run, 0 to 100
    """
    return _change(ctx, service, "scale", replicas=replicas)


def demo_registry() -> ToolRegistry:
    tools: list[Tool] = [service_status, restart_service, deploy_service, scale_service]
    return ToolRegistry(tools)
