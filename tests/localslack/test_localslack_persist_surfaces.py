"""The state file keeps DMs, Home tabs and streamed messages across a restart."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, WorkspaceConfig


async def test_dms_home_tabs_and_streams_survive_a_restart(
    config: WorkspaceConfig, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    cfg = dataclasses.replace(config, home_tab_enabled=True)
    async with LocalSlack(cfg, state_file=state) as slack:
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        ask = await slack.post_message(channel="D0ALICE", user="U0ALICE", text="hello")
        done = await web.chat_startStream(channel="D0ALICE", thread_ts=ask, markdown_text="Done")
        await web.chat_stopStream(channel="D0ALICE", ts=done["ts"])
        open_ = await web.chat_startStream(channel="D0ALICE", thread_ts=ask, markdown_text="Half")
        view = {"type": "home", "blocks": [{"type": "divider"}]}
        published = (await web.views_publish(user_id="U0ALICE", view=view))["view"]
    async with LocalSlack(cfg, state_file=state) as slack:
        assert [m["text"] for m in slack.thread(channel="D0ALICE", ts=ask)] == [
            "hello",
            "Done",
            "Half",
        ]
        home = slack.home_view(user="U0ALICE")
        assert home is not None and (home["id"], home["hash"]) == (
            published["id"],
            published["hash"],
        )
        finished = slack.stream(channel="D0ALICE", ts=done["ts"])
        assert finished is not None and finished["stopped_by"] == "app"
        abandoned = slack.stream(channel="D0ALICE", ts=open_["ts"])
        assert abandoned is not None
        assert (abandoned["state"], abandoned["stopped_by"]) == ("stopped", "expired")
