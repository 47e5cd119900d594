"""``signoff doctor``'s check of the user groups the policy names.

A rule naming a group Slack does not know (a typo, a group deleted since) refuses every
approver it names, and its requests wait until they expire; a group with no members
decides nothing either. ``signoff run`` learns it only at the first click, so the doctor
asks ``usergroups.users.list`` of each group once, with the bot token.
"""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError

from approvals import Policy, PolicyRule

from .config import Settings
from .doctor_slack import Check
from .membership import NOT_ASKED
from .slack_errors import passing, what_slack_said
from .web_clients import web_client

__all__ = ["check_groups"]


def _named(policy: Policy) -> dict[str, list[str]]:
    """Each group the policy names, with the rules that name it ("default", a tool)."""
    rules: list[tuple[str, PolicyRule]] = [("default", policy.default), *policy.tools.items()]
    named: dict[str, list[str]] = {}
    for where, rule in rules:
        for group in dict.fromkeys([*rule.approver_groups, *rule.escalate_groups]):
            named.setdefault(group, []).append(where)
    return named


async def check_groups(settings: Settings, policy: Policy) -> list[Check]:
    """One line per group the policy names; none without a bot token to ask with."""
    if settings.slack_bot_token is None:
        return []
    token = settings.slack_bot_token.get_secret_value()
    client = web_client(token, settings.slack_api_url, timeout=settings.slack_timeout_s)
    checks = []
    for group, rules in _named(policy).items():
        where = f"user group {group} (named by {', '.join(rules)})"
        try:
            answer = await client.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            said = what_slack_said(exc)
            if passing(exc) or said in NOT_ASKED:  # says nothing of the group itself
                checks.append(Check(False, f"{where}: could not ask Slack ({said})"))
            else:
                checks.append(Check(False, f"{where}: Slack says {said}: nobody decides by it"))
            continue
        except (aiohttp.ClientError, OSError) as exc:
            timed_out = isinstance(exc, TimeoutError)
            said = "no answer in time" if timed_out else (str(exc) or type(exc).__name__)
            checks.append(Check(False, f"{where}: could not ask Slack ({said})"))
            continue
        members = len(answer.get("users") or [])
        if members:
            checks.append(Check(True, f"{where}: {members} member(s)"))
        else:
            checks.append(Check(False, f"{where}: it has no members: nobody decides by it"))
    return checks
