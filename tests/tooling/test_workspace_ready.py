"""A Python tool that asks for its ToolContext finds the session's workspace/ ready to write
in, although sessions no longer make it up front (issue 14: few inodes per session)."""

from __future__ import annotations

from pathlib import Path

from agent_core.tools import ToolContext, tool
from sessions import ThreadKey


def _context(home: Path, workspace: Path) -> ToolContext:
    return ToolContext(
        home=home,
        session_id="sess_ab0000000000",
        workspace_path=workspace,
        thread=ThreadKey(team="T0LOCAL", channel="C0OPS", thread_ts="1700000000.000100"),
        requester="U0ALICE",
    )


@tool
def write_note(text: str, ctx: ToolContext) -> str:
    """Write a note into the workspace."""
    (ctx.workspace / "note.txt").write_text(text)
    return "written"


async def test_a_tool_given_its_context_can_write_in_the_workspace(tmp_path: Path) -> None:
    workspace = tmp_path / "sessions" / "ab" / "sess_ab0000000000" / "workspace"
    workspace.parent.mkdir(parents=True)
    context = _context(tmp_path, workspace)
    assert await write_note.call({"text": "hello"}, context) == "written"
    assert (workspace / "note.txt").read_text() == "hello"


async def test_a_tool_without_a_context_leaves_no_workspace(tmp_path: Path) -> None:
    @tool
    def ping() -> str:
        """Answer pong."""
        return "pong"

    workspace = tmp_path / "workspace"
    context = _context(tmp_path, workspace)
    assert await ping.call({}, context) == "pong"
    assert not workspace.exists()
