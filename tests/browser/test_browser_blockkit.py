"""LocalSlack's UI on its own (no bot): Block Kit and mrkdwn rendering, files, reactions,
ephemeral messages, escaping, and live updates from changes made outside the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from background_slack import BackgroundSlack

pytest.importorskip("playwright", reason="browser tests need the playwright package")
from playwright.sync_api import expect

OPS = "C0OPS"
MRKDWN = (
    "*bold* _italic_ ~strike~ `code` <https://example.com/x?a=1&amp;b=2|a link> "
    "<@U0BOB> <#C0OPS> <!here> :white_check_mark:\n&gt; quoted &lt;tag&gt;\n```multi\nline```"
)
BLOCKS: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "Everything at once"}},
    {
        "type": "section",
        "text": {"type": "mrkdwn", "text": MRKDWN},
        "accessory": {
            "type": "button",
            "action_id": "more",
            "text": {"type": "plain_text", "text": "More"},
        },
    },
    {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": "*Left*\none"},
            {"type": "plain_text", "text": "Right *not bold*"},
        ],
    },
    {
        "type": "context",
        "elements": [
            {"type": "image", "image_url": "https://example.com/a.png", "alt_text": "avatar"},
            {"type": "mrkdwn", "text": "context _note_"},
        ],
    },
    {"type": "divider"},
    {"type": "image", "image_url": "https://example.com/b.png", "alt_text": "a chart"},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "go",
                "style": "primary",
                "value": "1",
                "text": {"type": "plain_text", "text": "Go"},
            },
            {
                "type": "button",
                "action_id": "stop",
                "style": "danger",
                "text": {"type": "plain_text", "text": "Stop"},
            },
        ],
    },
]


def test_block_kit_files_reactions_and_ephemerals_render(
    page: Any, workspace: BackgroundSlack, shot: Any, tmp_path: Path
) -> None:
    slack, client = workspace.slack, workspace.client
    human = workspace.run(
        slack.post_message(channel=OPS, user="U0ALICE", text="<script>alert(1)</script> & *b*")
    )
    posted = workspace.run(client.chat_postMessage(channel=OPS, text="fallback", blocks=BLOCKS))
    workspace.run(slack.add_reaction(channel=OPS, ts=posted["ts"], user="U0BOB", name="tada"))
    workspace.run(
        client.files_upload_v2(
            channel=OPS, content="hello file", filename="notes.txt", title="Notes"
        )
    )
    workspace.run(client.chat_postEphemeral(channel=OPS, user="U0ALICE", text="just for _you_"))

    page.goto(f"{slack.url}/ui/#c=C0OPS&u=U0ALICE")
    expect(page.locator("#conn")).to_have_text("● live")
    typed = page.locator(f".msg[data-ts='{human}'] .msg-body")
    expect(typed).to_have_text("<script>alert(1)</script> & b")
    card = page.locator(f".msg[data-ts='{posted['ts']}']")
    expect(card.locator(".bk-header")).to_have_text("Everything at once")
    text = card.locator(".bk-text").first
    expect(text.locator("b")).to_have_text("bold")
    expect(text.locator("i")).to_have_text("italic")
    expect(text.locator("s")).to_have_text("strike")
    expect(text.locator("code")).to_have_text("code")
    link = text.locator("a")
    expect(link).to_have_text("a link")
    expect(link).to_have_attribute("href", "https://example.com/x?a=1&b=2")
    expect(link).to_have_attribute("target", "_blank")
    expect(text.locator(".mention")).to_have_text(["@bob", "#ops", "@here"])
    expect(text).to_contain_text("✅")
    expect(text.locator("blockquote")).to_have_text("quoted <tag>")
    expect(text.locator(".code-block")).to_have_text("multi\nline")
    expect(card.locator(".bk-section .bk-button")).to_have_text("More")
    fields = card.locator(".bk-field-cell")
    expect(fields).to_have_count(2)
    expect(fields.nth(0).locator("b")).to_have_text("Left")
    expect(fields.nth(1)).to_have_text("Right *not bold*")
    expect(card.locator(".bk-context")).to_contain_text("avatar")
    expect(card.locator(".bk-context i")).to_have_text("note")
    expect(card.locator("hr.bk-divider")).to_have_count(1)
    expect(card.locator("[data-block-type=image]")).to_contain_text("a chart")
    expect(card.locator(".bk-actions .bk-button.primary")).to_have_text("Go")
    expect(card.locator(".bk-actions .bk-button.danger")).to_have_text("Stop")
    expect(page.locator("img")).to_have_count(0)  # nothing is fetched from the network

    upload = page.locator(".file", has_text="Notes")
    expect(upload).to_contain_text("notes.txt")
    upload.locator("summary").click()
    expect(upload.locator("pre")).to_have_text("hello file")

    reaction = card.locator(".reaction[data-name=tada]")
    expect(reaction).to_have_text("🎉 1")
    reaction.click()  # Alice joins in
    expect(reaction).to_have_text("🎉 2")
    expect(reaction).to_have_class("reaction mine")

    mine = page.locator(".msg.ephemeral", has_text="just for you")
    expect(mine.locator("i")).to_have_text("you")
    shot(page, "rendered")
    page.locator(".person[data-user=U0BOB]").click()
    expect(page.locator(".msg.ephemeral")).to_have_count(0)
    page.locator(".person[data-user=U0ALICE]").click()
    mine.locator(".dismiss").click()
    expect(page.locator(".msg.ephemeral")).to_have_count(0)

    # A change made elsewhere shows up without a reload.
    workspace.run(slack.post_message(channel=OPS, user="U0CAROL", text="from elsewhere"))
    expect(page.locator(".msg", has_text="from elsewhere")).to_be_visible()


def test_an_emoji_name_is_text_in_a_reaction_and_in_rich_text(
    page: Any, workspace: BackgroundSlack
) -> None:
    """An emoji the UI has no picture for shows as ``:name:``; the name came from whoever
    called reactions.add or posted the blocks, and was put in the page as HTML."""
    slack, client = workspace.slack, workspace.client
    hostile = "<img src=x onerror=window.pwned=1>"
    # A message of rich text alone shows its text; beside another block, its blocks.
    section = {"type": "section", "text": {"type": "plain_text", "text": "and more"}}
    rich = {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [{"type": "text", "text": "look "}, {"type": "emoji", "name": hostile}],
            }
        ],
    }
    posted = workspace.run(
        client.chat_postMessage(channel=OPS, text="fallback", blocks=[rich, section])
    )
    workspace.run(slack.add_reaction(channel=OPS, ts=posted["ts"], user="U0BOB", name=hostile))

    page.goto(f"{slack.url}/ui/#c=C0OPS&u=U0ALICE")
    card = page.locator(f".msg[data-ts='{posted['ts']}']")
    expect(card.locator(".bk-rich")).to_have_text(f"look :{hostile}:")
    expect(card.locator(".reaction")).to_have_text(f":{hostile}: 1")
    expect(page.locator("img")).to_have_count(0)
    assert page.evaluate("window.pwned") is None


def test_an_emoji_named_like_an_object_property_is_no_emoji(
    page: Any, workspace: BackgroundSlack
) -> None:
    """`:constructor:` was looked up in a plain object: it showed JavaScript's Object
    function as text, and in markdown it threw, leaving the message out of the page."""
    slack, client = workspace.slack, workspace.client
    typed = workspace.run(
        slack.post_message(channel=OPS, user="U0ALICE", text="a :constructor: b :toString: :tada:")
    )
    markdown = {"type": "markdown", "text": "c :constructor: d :tada:"}
    section = {"type": "section", "text": {"type": "plain_text", "text": "and more"}}
    posted = workspace.run(
        client.chat_postMessage(channel=OPS, text="fallback", blocks=[markdown, section])
    )

    page.goto(f"{slack.url}/ui/#c=C0OPS&u=U0ALICE")
    body = page.locator(f".msg[data-ts='{typed}'] .msg-body")
    expect(body).to_have_text("a :constructor: b :toString: 🎉")
    card = page.locator(f".msg[data-ts='{posted['ts']}']")
    expect(card.locator(".bk-markdown")).to_have_text("c :constructor: d 🎉")
