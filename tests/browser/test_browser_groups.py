"""User groups in the browser (no bot): the person you act as joins or leaves one from the
sidebar, the Web API answers the new members, and an app subscribed to it hears
``subteam_members_changed``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from background_slack import BackgroundSlack

from localslack import WorkspaceConfig

pytest.importorskip("playwright", reason="browser tests need the playwright package")
from playwright.sync_api import expect

GROUP = "S0APPROVERS"  # Alice and Bob


@pytest.fixture
def workspace(monkeypatch: pytest.MonkeyPatch) -> Iterator[BackgroundSlack]:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
    base = WorkspaceConfig()
    events = (*base.subscribed_events, "subteam_members_changed")
    running = BackgroundSlack(dataclasses.replace(base, subscribed_events=events))
    yield running
    running.close()


def members(workspace: BackgroundSlack) -> list[str]:
    answer = workspace.run(workspace.client.usergroups_users_list(usergroup=GROUP))
    return list(answer["users"])


def test_joining_and_leaving_a_group_from_the_sidebar(
    page: Any, workspace: BackgroundSlack
) -> None:
    slack = workspace.slack
    page.goto(f"{slack.url}/ui/#c=C0OPS&u=U0CAROL")
    expect(page.locator("#conn")).to_have_text("● live")
    row = page.locator(f"#groups .group[data-group={GROUP}]")
    expect(row).to_contain_text("@approvers 2")
    with page.expect_response("**/_ui/api/group_members"):
        row.locator(".group-toggle", has_text="join").click()
    expect(row).to_contain_text("@approvers 3")
    expect(row.locator(".group-toggle")).to_have_text("leave")
    assert members(workspace) == ["U0ALICE", "U0BOB", "U0CAROL"]
    [sent] = slack.deliveries(kind="subteam_members_changed")
    assert sent.payload["event"]["added_users"] == ["U0CAROL"]

    page.locator("#people .person[data-user=U0BOB]").click()
    with page.expect_response("**/_ui/api/group_members"):
        row.locator(".group-toggle", has_text="leave").click()
    expect(row).to_contain_text("@approvers 2")
    assert members(workspace) == ["U0ALICE", "U0CAROL"]
    assert slack.deliveries(kind="subteam_members_changed")[1].payload["event"][
        "removed_users"
    ] == ["U0BOB"]


def test_joining_keeps_who_joined_since_the_page_was_drawn(
    page: Any, workspace: BackgroundSlack
) -> None:
    """The page sent the whole list it had drawn, plus or minus its person: someone added
    meanwhile (by an admin, another tab, the control API) was removed again by a join."""
    slack = workspace.slack
    page.goto(f"{slack.url}/ui/#c=C0OPS&u=U0CAROL")
    expect(page.locator("#conn")).to_have_text("● live")
    row = page.locator(f"#groups .group[data-group={GROUP}]")
    expect(row).to_contain_text("@approvers 2")
    workspace.run(slack.update_group_members(group=GROUP, users=["U0ALICE", "U0BOB", "U0DAVE"]))
    with page.expect_response("**/_ui/api/group_members"):
        row.locator(".group-toggle", has_text="join").click()
    expect(row).to_contain_text("@approvers 4")
    assert members(workspace) == ["U0ALICE", "U0BOB", "U0DAVE", "U0CAROL"]
    assert [d.payload["event"]["removed_users"] for d in slack.deliveries(
        kind="subteam_members_changed")] == [[], []]  # fmt: skip
