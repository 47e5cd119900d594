"""LocalSlack: a Slack-compatible server on loopback for end-to-end tests of Slack apps.

It fakes the parts of Slack a Socket Mode Bolt app touches, faithfully enough that the real
`slack_sdk` / `slack_bolt` clients run unmodified against it:

* the Web API under ``/api/<method>`` (auth, chat, conversations, reactions, users, usergroups,
  views, the external file upload flow) with Slack's error shapes, scopes (``missing_scope``
  with ``needed``/``provided``), Block Kit limits and optional rate limits (429 + Retry-After);
* Socket Mode (``apps.connections.open`` tickets, ``hello``, envelopes, acks, redelivery of
  unacked events, ``disconnect`` frames, the 10-socket cap);
* events generated from workspace changes (human messages, mentions, the bot's own echoes),
  button clicks, modal submissions, slash commands and ``response_url`` endpoints;
* conversations of every kind the app meets: public channels, private ones (``message.groups``,
  ``channel_type: "group"``, ``C…`` or legacy ``G…`` ids), group DMs (``is_mpim``,
  ``message.mpim``, the ``mpim:`` scopes) and each person's DM with the app
  (``D…``, ``message.im``, ``conversations.open``), each event only as subscribed and scoped;
* what AI apps use: the thread status line (``assistant.threads.setStatus``), agent sessions
  with their stop button (``agents.sessions.setStatus``, ``agent_session_stopped``), streamed
  replies with task and plan chunks (``chat.startStream``/``appendStream``/``stopStream``) and
  the App Home (``views.publish``, ``app_home_opened``, buttons in views);
* user groups whose members change (``subteam_members_changed``);
* message metadata checked as Slack checks it, its payload handed back only when asked for
  (``include_all_metadata``);
* a control API to drive it, both in-process (methods on :class:`LocalSlack`) and as JSON over
  HTTP under ``/_control/``: act as people, observe what the app did, and break things on
  purpose (faults before or after a method takes effect, dropped connections, a workspace
  that lacks a method, seeded duplicate deliveries and socket drops);
* a browser UI at ``/ui/`` showing all of it live.

Start it in a test::

    async with LocalSlack(WorkspaceConfig()) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        ts = await slack.post_message(channel="C0GENERAL", user="U0ALICE", text="hi")

or standalone with ``python -m localslack --port 0`` (prints the URL). slack_sdk honours
HTTP(S)_PROXY but not NO_PROXY, so unset the proxy variables in processes that talk to it.

The control API, in-process (HTTP routes are listed in control_http*.py):

* people: ``post_message`` (shared ``files``, a ``forward`` of another message),
  ``add_reaction``, ``click_button``, ``submit_view``,
  ``slash_command``, ``open_app_home``, ``click_view_button``, ``stop_agent_session``;
* admins: ``update_group_members`` / ``change_group_members`` (a user group's members,
  ``subteam_members_changed``), ``join_channel`` / ``leave_channel`` (a channel's members,
  ``member_joined_channel`` / ``member_left_channel``), ``archive_channel`` /
  ``unarchive_channel`` (read-only meanwhile: ``is_archived``, chat.update's
  ``is_inactive``; ``channel_archive`` / ``channel_unarchive``), ``delete_channel``
  (``channel_not_found`` from then on; ``channel_deleted``);
* observing: ``messages``/``thread``/``message``/``wait_for_message``, ``calls``,
  ``deliveries``/``wait_for_delivery``/``wait_for_ack``, ``thread_status``/
  ``thread_statuses``/``status_history``/``wait_for_status``, ``agent_session(s)``/
  ``wait_for_session_status``, ``stream(s)``/``wait_for_stream``, ``home_view``/
  ``wait_for_home_view``, ``chaos_events``;
* trouble: ``inject_fault`` (``count=None`` for every call, ``after_commit``,
  ``drop_connection``, ``garbage``, ``cut_short``, ``hang``, ``channel`` for one channel's
  calls only), ``lack_surface``, ``hold_calls`` (a call waits until released),
  ``remove_fault``/``clear_faults``,
  ``set_rate_limits``, ``disconnect_sockets``, ``close_sockets``, ``drop_sockets``, ``freeze_sockets``, ``answer_pings``,
  ``fail_handshakes`` (the next upgrades fail, their one-use URL spent), ``refuse_links``
  (new connections refused with a ``disconnect`` reason, before ``hello``), ``on_app_close``
  (a hook run as the app's close frame is read: what it delivers crosses the close),
  ``duplicate_events``, ``drop_sockets_randomly`` (and their ``stop_…``), ``redeliver`` (an
  event sent again as after a lost ack, ``retry_attempt`` one more).
"""

from localslack.chaos import ChaosEvent
from localslack.config import BotSpec, ChannelSpec, GroupSpec, Timing, UserSpec, WorkspaceConfig
from localslack.deliveries import Delivery
from localslack.errors import ControlError, SlackError
from localslack.faults import SURFACE_ERRORS, Fault, SurfaceError
from localslack.holds import HeldCalls
from localslack.interactions import Interaction
from localslack.server import LocalSlack
from localslack.watch import Predicate, message_filter
from localslack.webapi import ApiCall

__all__ = [
    "SURFACE_ERRORS",
    "ApiCall",
    "BotSpec",
    "ChannelSpec",
    "ChaosEvent",
    "ControlError",
    "Delivery",
    "Fault",
    "GroupSpec",
    "HeldCalls",
    "Interaction",
    "LocalSlack",
    "Predicate",
    "SlackError",
    "SurfaceError",
    "Timing",
    "UserSpec",
    "WorkspaceConfig",
    "message_filter",
]
