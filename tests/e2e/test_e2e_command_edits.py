"""Edit & approve of a command tool through Slack: an approver's edit that would turn the
value into an option (``-rf``, ``--help``) is refused in the modal and nothing runs; the
edit that is taken runs once, as exactly one argument, spaces and quotes included."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signoff_e2e_kit import bot_reply, mention, until, wait_card
from test_e2e_edit import open_edit_modal

from bot.app import SignoffBot
from bot.edit_modal import EDIT_MODAL
from localslack import LocalSlack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tooling"))

from mcp_fixture_kit import toml_str, write_config

if TYPE_CHECKING:
    from conftest import BotFactory

# Appends the argv it was given, as JSON, to the file named by its first argument.
RECORD = "import json, sys; open(sys.argv[1], 'a').write(json.dumps(sys.argv[2:]) + chr(10))"


async def test_an_edit_that_would_be_an_option_is_refused_and_the_taken_one_runs_once(
    slack: LocalSlack, start_bot: BotFactory, tmp_path: Path
) -> None:
    ran = tmp_path / "removed.jsonl"
    config = write_config(
        tmp_path / "signoff.toml",
        "[commands.remove]\n"
        'description = "Remove a file"\n'
        f'argv = [{toml_str(sys.executable)}, "-c", {toml_str(RECORD)}, {toml_str(ran)},'
        ' "{file}"]\n'
        'params.file = { type = "string" }\n',
    )
    bot: SignoffBot = await start_bot(config_path=config, demo_tools=False)
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, "call remove file=old.log")
    card = await wait_card(slack, thread)

    await open_edit_modal(slack, card, "U0BOB")
    for value in ("-rf", "--help", "-"):
        await slack.submit_view(
            user="U0BOB", callback_id=EDIT_MODAL, values={"arg:file": {"value": value}}
        )
        # This submission's own refusal, which names the value (not an earlier one's).
        said = f"'{value}' would be read as an option"

        def refused(said: str = said) -> list[dict[str, Any]]:
            return [v for v in slack.open_views(user="U0BOB") if said in json.dumps(v["errors"])]

        (still,) = await until(refused, what="the refusal in the modal")
        assert set(still["errors"]) == {"arg:file"}, still["errors"]
        await bot.engine.idle()
        assert not ran.exists()

    typed = 'my file\'s "name" ; rm -rf / .log'
    await slack.submit_view(
        user="U0BOB", callback_id=EDIT_MODAL, values={"arg:file": {"value": typed}}
    )
    await bot_reply(slack, thread, "remove` finished")
    await bot.engine.idle()
    assert [json.loads(line) for line in ran.read_text().splitlines()] == [[typed]]
