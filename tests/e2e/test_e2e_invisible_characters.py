"""What an approver reads is what runs, and no control byte reaches a Slack message.

A model asked to restart ``\\u202eipa`` (a right-to-left override, then "ipa"): Slack drew
the card's argument as "api", so Bob saw "restart api" and approved a call to another
service. A zero-width space or an invisible tag character hides in a value the same way.
Such characters in an argument are now shown as their escapes (``\\u202e``), in the
field and in the call's JSON below it. And a tool's coloured output echoed by the model
(``ESC[31m``) or a NUL reached the thread as those bytes: the escape sequences are now
dropped and any other control character shown as U+FFFD.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from signoff_e2e_kit import (
    OPS,
    PURGE_TOOL,
    bot_reply,
    ephemeral_texts,
    mention,
    tool_module,
    until,
    wait_card,
)

from localslack import LocalSlack

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "providers"))
from fake_anthropic import FakeAnthropic, ToolUse

HIDING = {
    "override": "\u202eipa",  # drawn "api"
    "zero width": "api\u200b",
    "tag": "api\U000e0041",  # an invisible tag letter, as in "ASCII smuggling"
    # Drawn as nothing too (Unicode's Default_Ignorable_Code_Point), though they are
    # combining marks or not assigned yet rather than format characters.
    "grapheme joiner": "api\u034f",
    "mongolian variation selector": "api\u180b",
    "khmer inherent vowel": "api\u17b4",
    "unassigned tag": "api\U000e0080",
    # Drawn as another letter: a Cyrillic "а" in "api", fullwidth "ａｐｉ" (a look-alike).
    "cyrillic a": "\u0430pi",
    "fullwidth": "\uff41\uff50\uff49",
}


async def _card_of(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch, service: str
) -> str:
    async with FakeAnthropic(api_key="sk-ant-test-key") as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
        api.reply(ToolUse(name="restart_service", input={"service": service}))
        await start_bot(model="anthropic:claude-test")
        await slack.wait_for_sockets(1, timeout=5)
        thread = await mention(slack, "restart api")
        card = await wait_card(slack, thread, timeout=30)
    return json.dumps(card.get("blocks"), ensure_ascii=False)


@pytest.mark.parametrize("kind", sorted(HIDING))
async def test_an_argument_hiding_characters_is_shown_with_them_visible(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    service = HIDING[kind]
    hidden = next(c for c in service if c not in "api")
    shown = await _card_of(slack, start_bot, monkeypatch, service)
    assert hidden not in shown, shown
    # As JSON escapes it (an invisible tag letter is past U+FFFF: a surrogate pair), once
    # in the field and once in the call's JSON below it; the blocks' own JSON doubles "\\".
    escaped = json.dumps(hidden).strip('"').replace("\\", "\\\\")
    assert shown.count(escaped) == 2, shown


async def _said(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch, answer: str, start: str
) -> str:
    """The model's ``answer`` as the thread shows it (its text and blocks, as JSON)."""
    async with FakeAnthropic(api_key="sk-ant-test-key") as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
        api.reply(answer)
        await start_bot(model="anthropic:claude-test")
        await slack.wait_for_sockets(1, timeout=5)
        thread = await mention(slack, "status of api")
        reply = await bot_reply(slack, thread, start, timeout=30)
    return json.dumps([reply.get("text"), reply.get("blocks")], ensure_ascii=False)


async def test_control_bytes_in_a_reply_never_reach_slack(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = "Status: \x1b[31mdown\x1b[0m \x1b]8;;https://evil.example\x07x\x1b]8;;\x07 nul\x00 bell\x07 ok"
    said = await _said(slack, start_bot, monkeypatch, answer, "Status:")
    streamed = json.dumps(slack.streams(channel=OPS), ensure_ascii=False)
    for text in (said, streamed):
        assert "\\u00" not in text and "\\u001b" not in text, text  # no escaped control byte
        assert "evil.example" not in text
    assert "Status: down x nul\ufffd bell\ufffd ok" in said, said


async def test_stacked_combining_marks_are_shown_as_their_escapes(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Marks stacked on one letter draw a smear over the lines above and below it (the
    # other arguments, the hash); two, as Vietnamese writes "ệ", draw as themselves.
    viet = "e\u0323\u0302"
    shown = await _card_of(slack, start_bot, monkeypatch, "api" + "\u0301" * 8 + viet)
    assert "\u0301" not in shown, shown
    assert shown.count("\\\\u0301") == 2 * 8, shown
    assert shown.count(viet) == 2, shown


@pytest.mark.parametrize("service", ["api ", " api", "api\t", "a  pi", "`id`"], ids=repr)
async def test_a_value_whose_spaces_the_field_cannot_show_has_its_json_below(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    # The field is one line of inline code with its spaces collapsed: "api " showed as
    # `api`, whole, and approving it ran the call on "api " (another path, another name);
    # a backtick, which would end the code early, is drawn as "ˋ", as "ˋ" itself is.
    shown = await _card_of(slack, start_bot, monkeypatch, service)
    assert '"block_id": "json-' in shown, shown
    assert json.dumps(json.dumps(service)).strip('"') in shown, shown


async def test_an_unterminated_terminal_sequence_hides_no_more_than_its_line(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tool's output cut short inside an OSC 8 link, echoed by the model: the sequence,
    # never ended, took every line of the reply after it (an OSC ends at BEL or ST only).
    answer = (
        "Output: \x1b]8;;https://evil.example/x\nThe restart failed.\n"
        "Colour \x1b[31mred\x1b[0m and a bell \x07 stay as before."
    )
    said = await _said(slack, start_bot, monkeypatch, answer, "Output:")
    assert "evil.example" not in said and "\\u001b" not in said, said
    assert "Output: \\nThe restart failed.\\nColour red and a bell \ufffd stay" in said, said


async def test_the_trace_shows_an_argument_hiding_characters_with_them_visible(
    slack: LocalSlack, start_bot: Any
) -> None:
    # The trace wrote a call's arguments as Python's repr, which escapes a format
    # character but not a variation selector (a mark that draws nothing): `/signoff
    # trace` showed the request as restart_service({'service': 'api'}), and two spaces
    # as one.
    await start_bot()
    await slack.wait_for_sockets(1, timeout=5)
    thread = await mention(slack, r'call restart_service {"service": "api\u180b  x"}')
    await wait_card(slack, thread, timeout=30)
    await slack.slash_command(command="/signoff", user="U0BOB", channel=OPS, text="trace")
    (answer,) = await until(
        lambda: [t for t in ephemeral_texts(slack, "U0BOB") if "✋ approval" in t],
        what="the trace",
    )
    assert "\u180b" not in answer, answer
    assert answer.count("'api\\u180b  x'") == 2, answer  # the model's call, the request


async def test_a_fence_in_a_value_is_told_apart_from_its_look_alike_in_the_json(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The JSON is a code block, which a ``` would end: it was drawn "ˋˋˋ" (modifier
    # letters), as a value holding those letters is, so the JSON no longer said which
    # of the two runs. It is now escaped as JSON escapes it, and reads back as the value.
    shown = await _card_of(slack, start_bot, monkeypatch, "echo ```x``` ˋˋˋ")
    (block,) = [b for b in json.loads(shown) if b["block_id"].startswith("json-")]
    code = block["text"]["text"]
    assert code.startswith("```") and code.endswith("```") and code.count("```") == 2, code
    assert json.loads(code[3:-3]) == {"service": "echo ```x``` ˋˋˋ"}, code


@pytest.mark.parametrize("prefix", ["null", "12", "true", "[]"])
async def test_a_string_drawn_as_another_json_value_has_its_json_below(
    slack: LocalSlack,
    start_bot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    prefix: str,
) -> None:
    # A field draws a value bare: the string "null" and null (every page) both showed
    # as `null`, whole, with no JSON below to tell them apart.
    await start_bot(
        tool_modules=(tool_module(tmp_path, monkeypatch, "purge_tools_vis", PURGE_TOOL),)
    )
    await slack.wait_for_sockets(1, timeout=5)
    asked = json.dumps({"prefix": prefix})
    card = await wait_card(slack, await mention(slack, f"call purge_cache {asked}"))
    blocks = card.get("blocks") or []
    (code,) = [b["text"]["text"] for b in blocks if b["block_id"].startswith("json-")]
    assert json.loads(code[3:-3]) == {"prefix": prefix}, code


LONG = "replicas_for_the_service_" * 4  # 100 characters
TWO_LONG_NAMES_TOOL = f'''
from agent_core.tools import tool


@tool(requires_human_approval=True)
def tune(service: str, {LONG}min: int, {LONG}max: int) -> str:
    """Tune a service's replicas.

    Args:
        service: which service
    """
    return "tuned"


TOOLS = [tune]
'''


async def test_argument_names_a_field_clips_have_the_json_below(
    slack: LocalSlack, start_bot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A field shows a name's first 100 characters: two names alike that far read the
    # same, and with no JSON below, which value was which could not be told.
    module = tool_module(tmp_path, monkeypatch, "tune_tools_vis", TWO_LONG_NAMES_TOOL)
    await start_bot(tool_modules=(module,))
    await slack.wait_for_sockets(1, timeout=5)
    asked = json.dumps({"service": "api", f"{LONG}min": 9, f"{LONG}max": 1})
    card = await wait_card(slack, await mention(slack, f"call tune {asked}"))
    blocks = card.get("blocks") or []
    (code,) = [b["text"]["text"] for b in blocks if b["block_id"].startswith("json-")]
    assert json.loads(code[3:-3]) == json.loads(asked), code


async def test_a_typed_escape_is_told_apart_from_the_character_it_names(
    slack: LocalSlack, start_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A field shows a right-to-left override as "\u202e" and the JSON follows; a value
    # holding those six characters as typed drew the same field, whole, with no JSON
    # below, so nothing said which of the two would run.
    shown = await _card_of(slack, start_bot, monkeypatch, "api\\u202e")
    (block,) = [b for b in json.loads(shown) if b["block_id"].startswith("json-")]
    assert json.loads(block["text"]["text"][3:-3]) == {"service": "api\\u202e"}, block
