"""The policy of a home ``signoff dev`` made: ``$SIGNOFF_HOME/dev/policy.toml``.

``signoff dev`` writes it at its first start and decides by it unless ``SIGNOFF_POLICY``
or the config's ``[policy]`` names another. The terminal commands on that home that judge
by a policy do the same: under the built-in default, a terminal's ``approve`` judged by
other rules than the playground's cards show, and was refused for it
(``cli_engine._policy_in_force``). They know the simulated fleet that policy names, as
``signoff dev`` does, unless ``SIGNOFF_DEMO`` says otherwise: without it, README's tour in
a shell that had not exported ``SIGNOFF_DEMO=1`` stopped with "policy names unknown
tools: deploy_service".
"""

from __future__ import annotations

from pathlib import Path

from .config import Settings

__all__ = ["playground_policy_path", "with_playground_policy"]


def playground_policy_path(home: Path) -> Path:
    return home / "dev" / "policy.toml"


def with_playground_policy(settings: Settings, *, demo_named: bool) -> Settings:
    """``settings`` deciding by the playground's policy when their home has one and
    nothing else names a policy, with the simulated fleet unless ``SIGNOFF_DEMO`` was
    given (``demo_named``); else as they are."""
    path = playground_policy_path(settings.home)
    if settings.policy_path is not None or not path.is_file():
        return settings
    if settings.config(expand=False).policy is not None:
        return settings
    demo = settings.demo_tools if demo_named else True
    return settings.model_copy(update={"policy_path": path, "demo_tools": demo})
