"""Slack's answers that are final for a message: no retry brings it back.

Apart from ``slack_errors`` so that what reads them without calling Slack (``signoff
trace`` telling a post that failed for good from one still queued) does not import
slack_sdk, which is a tenth of a second of every command's start.
"""

from __future__ import annotations

__all__ = ["CLOSED", "PERMANENT"]

# Slack's documented answers of chat.postMessage, chat.update and chat.postEphemeral about
# the message, the thread or the channel (is_inactive: chat.update's in an archived one).
# What Slack says of the token or the app (invalid_auth, token_revoked, account_inactive,
# missing_scope) is not here: once that is fixed, everything queued goes out.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "is_inactive",
        "not_in_channel",
        "messages_tab_disabled",
        "ekm_access_denied",
        "team_not_found",
        "message_not_found",
        "cant_update_message",
        "cant_delete_message",
        "compliance_exports_prevent_deletion",
        "edit_window_closed",
        "block_mismatch",
        "cannot_reply_to_message",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_attachments",
        "markdown_text_conflict",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "too_many_attachments",
        "attachment_payload_limit_exceeded",
        "user_not_in_channel",
        "user_not_found",
        "thread_not_found",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_locked",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "slack_connect_file_link_sharing_blocked",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
    }
)

# Of those, the answers that close a whole conversation to signoff, not one message in it
# (chat.update's is_inactive: in an archived channel): whoever is to be told something
# there can only be told in their direct message.
CLOSED = frozenset({"is_archived", "is_inactive", "channel_not_found", "not_in_channel"})
