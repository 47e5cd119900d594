"""Slack gives no new link after the first: ``/readyz`` and one log line say why.

Start-up ends on an app token Slack refuses; after the first ``hello`` the link is retried
instead (docs/operations.md: "later, the link is retried and /readyz says why it is
down"). But ``/readyz`` said "connection lost" whatever ``apps.connections.open``
answered (``invalid_auth``: the app token was revoked; a 5xx: an outage), and no line of
signoff's named it: slack_sdk logged two ERROR lines for each attempt, quoting the whole
answer. Now ``/readyz`` says what Slack answered, signoff says it once at WARNING, and the
attempts go on quietly until one gets a link.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from signoff_e2e_kit import OPS, mention, until
from test_e2e_ops_http import get, wait_status

from localslack import LocalSlack

if TYPE_CHECKING:
    from conftest import BotFactory


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (
            {"error": "invalid_auth"},
            "Slack refused SLACK_APP_TOKEN (apps.connections.open: invalid_auth)",
        ),
        (
            {"status": 503, "error": "service_unavailable"},
            "apps.connections.open: service_unavailable",
        ),
        ({"garbage": True}, "apps.connections.open: HTTP 200"),
    ],
)
async def test_a_link_slack_will_not_give_again_is_said_once_and_by_readyz(
    slack: LocalSlack,
    start_bot: BotFactory,
    caplog: pytest.LogCaptureFixture,
    fault: dict[str, object],
    said: str,
) -> None:
    caplog.set_level(logging.INFO)
    bot = await start_bot(ping_interval=0.2)
    await slack.wait_for_sockets(1, timeout=5)
    outage = slack.inject_fault(method="apps.connections.open", count=None, **fault)  # type: ignore[arg-type]
    since = len(caplog.records)
    assert slack.drop_sockets() == ["socket-1"]
    await until(lambda: outage.fired >= 4, what="four refused asks for a link")

    status, body = await get(bot, "/readyz")
    assert status == 503
    assert said in body["checks"]["socket"], body
    logged = caplog.records[since:]
    told = [r for r in logged if r.name == "signoff.socket" and said in r.getMessage()]
    assert [r.levelno for r in told] == [logging.WARNING], [r.getMessage() for r in logged]
    sdk = [r for r in logged if r.name.startswith("slack_sdk") and r.levelno >= logging.WARNING]
    assert not sdk, [r.getMessage() for r in sdk]

    slack.remove_fault(outage)  # a new token in place, the outage over
    await wait_status(bot, 200)
    thread = await mention(slack, "status of api")
    await slack.wait_for_message(channel=OPS, thread_ts=thread, from_bot=True, timeout=10)


async def test_a_rate_limited_ask_for_a_link_waits_what_slack_asks(
    slack: LocalSlack, start_bot: BotFactory
) -> None:
    # A 429 with Retry-After, twice: each next ask comes no sooner than Slack asked.
    await start_bot(ping_interval=0.2)
    await slack.wait_for_sockets(1, timeout=5)
    limited = slack.inject_fault(method="apps.connections.open", status=429, retry_after=1, count=2)
    since = slack.calls("apps.connections.open")[-1].at
    assert slack.drop_sockets() == ["socket-1"]
    await slack.wait_for_sockets(1, timeout=10)
    asked = [c.at for c in slack.calls("apps.connections.open") if c.at > since]
    assert limited.fired == 2 and len(asked) == 3, asked
    assert asked[1] - asked[0] >= 0.9 and asked[2] - asked[1] >= 0.9, asked
