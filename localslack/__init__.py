"""LocalSlack: a Slack-compatible server on loopback for end-to-end tests of Slack apps.

It fakes the parts of Slack a Socket Mode Bolt app touches, faithfully enough that the real
`slack_sdk` / `slack_bolt` clients run unmodified against it:

* the Web API under ``/api/<method>`` (auth, chat, conversations, reactions, users, usergroups,
  views, the external file upload flow) with Slack's error shapes, Block Kit limits and
  optional rate limits (429 + Retry-After);
* Socket Mode (``apps.connections.open`` tickets, ``hello``, envelopes, acks, redelivery of
  unacked events, ``disconnect`` frames, the 10-socket cap);
* events generated from workspace changes (human messages, mentions, the bot's own echoes),
  button clicks, modal submissions, slash commands and ``response_url`` endpoints;
* a control API to drive it, both in-process (methods on :class:`LocalSlack`) and as JSON over
  HTTP under ``/_control/``.

Start it in a test::

    async with LocalSlack(WorkspaceConfig()) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        ts = await slack.post_message(channel="C0GENERAL", user="U0ALICE", text="hi")

or standalone with ``python -m localslack --port 0`` (prints the URL). slack_sdk honours
HTTP(S)_PROXY but not NO_PROXY, so unset the proxy variables in processes that talk to it.
"""

from localslack.config import BotSpec, ChannelSpec, GroupSpec, Timing, UserSpec, WorkspaceConfig
from localslack.deliveries import Delivery
from localslack.errors import ControlError, SlackError
from localslack.faults import Fault
from localslack.interactions import Interaction
from localslack.server import LocalSlack
from localslack.watch import Predicate, message_filter
from localslack.webapi import ApiCall

__all__ = [
    "ApiCall",
    "BotSpec",
    "ChannelSpec",
    "ControlError",
    "Delivery",
    "Fault",
    "GroupSpec",
    "Interaction",
    "LocalSlack",
    "Predicate",
    "SlackError",
    "Timing",
    "UserSpec",
    "WorkspaceConfig",
    "message_filter",
]
