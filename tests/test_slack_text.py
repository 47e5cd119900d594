"""The one renderer of outgoing text, against a corpus of what people and models write."""

from __future__ import annotations

import html
import json

import pytest

from agent_core.live import ToolStep
from bot.drawn_text import draws_nothing, visible, without_controls
from bot.reply_parts import attached_start, split_message
from bot.slack_text import (
    Mrkdwn,
    clip_mrkdwn,
    code_block,
    escape,
    escape_reply,
    file_text,
    group_mention,
    mention,
    mentions,
    tool_label,
    whole_cut,
    without_surrogates,
)
from bot.status_texts import running
from bot.stream_steps import task_chunk
from sessions import InvalidIdError

CORPUS = [
    "<!here>",
    "<!channel>",
    "<!everyone>",
    "<!subteam^S1|@x>",
    "<@U1>",
    "<@U0BOB|bob>",
    "<#C0OPS|ops>",
    "&amp;",
    "&lt;!here&gt;",
    "<b>bold</b>",
    "<https://x|y>",
    "a < b > c & d",
    "lone \ud800 surrogate, and a pair \ud83d\ude00",
    "```<!channel>```",
    "x" * 40_000,
    "<" * 20_000 + "!here" + ">" * 20_000,
]


@pytest.mark.parametrize("text", CORPUS, ids=range(len(CORPUS)))
def test_escaped_text_has_no_markup_and_reads_back_as_written(text: str) -> None:
    out = escape(text)
    assert "<" not in out and ">" not in out  # no mention, link or broadcast can form
    assert html.unescape(out) == without_surrogates(text)  # shown exactly as written
    out.encode("utf-8")  # postable: no lone surrogate left


def test_lone_surrogates_become_one_replacement_and_pairs_their_character() -> None:
    assert without_surrogates("a\ud800b") == "a\ufffdb"
    assert without_surrogates("\ud83d\ude00") == "😀"


def test_a_reply_renders_mentions_only_of_people_signoff_holds() -> None:
    text = "thanks <@U0ALICE>, ask <@U0EVIL>; <!channel> <!subteam^S0OPS>"
    out = escape_reply(text, people=("U0ALICE", "<!channel>", "S0OPS"))
    assert "<@U0ALICE>" in out
    assert "&lt;@U0EVIL&gt;" in out and "&lt;!channel&gt;" in out
    assert "<!subteam" not in out  # groups are never re-enabled from a model's text


def test_mentions_are_made_only_from_valid_ids() -> None:
    assert mention("U0BOB") == "<@U0BOB>"
    assert group_mention("S0OPS") == "<!subteam^S0OPS>"
    assert mentions(["U0BOB", "S0OPS", "signoff"]) == "<@U0BOB>, <!subteam^S0OPS>, signoff"
    for bad in ("here", "!channel", "U0BOB><!here", "<@U0BOB>", ""):
        with pytest.raises(InvalidIdError):
            mention(bad)
    assert "<" not in mentions(["!here", "<!channel>"])


def test_a_code_block_cannot_be_closed_from_inside() -> None:
    out = code_block("x``` <!here> ```y")
    assert out.startswith("```") and out.endswith("```") and out.count("```") == 2
    assert "<!here>" not in out


@pytest.mark.parametrize(
    ("text", "limit", "clipped"),
    [
        ("a &amp; b", 5, "a …"),  # not "a &a…"
        ("see <@U0BOB> now", 9, "see …"),  # not "see <@U0…"
        ("see <!date^1700000000^{date}|Nov 14> ok", 20, "see …"),
        ("&lt;&gt;&amp;", 10, "&lt;&gt;…"),
        ("short", 5, "short"),
        ("plain words", 6, "plain…"),
    ],
)
def test_rendered_text_is_never_cut_inside_an_entity_or_a_token(
    text: str, limit: int, clipped: str
) -> None:
    assert clip_mrkdwn(Mrkdwn(text), limit) == clipped


def test_a_tool_name_no_tool_could_have_is_never_shown_as_a_task_or_a_status() -> None:
    assert tool_label("ops__restart_deployment") == "ops__restart_deployment"
    for made_up in ("<!channel>", "restart <@U0DAVE>", "a&b", "", "x" * 65):
        assert tool_label(made_up) == "an unknown tool", made_up
    step = ToolStep("call_1", "<!here>", "failed", "not run")
    assert task_chunk(step)["title"] == "an unknown tool"
    assert running(["restart_service", "<!channel>"]) == (
        "is running restart_service, an unknown tool…"
    )


def test_a_cut_never_splits_a_run_of_backticks() -> None:
    """Half a ``` fence shows as backticks, and the fences after it no longer pair up."""
    text = "x" * 998 + "```\ncode\n```"
    assert whole_cut(text, 1000) == 998
    start = attached_start([text])
    assert start.startswith("x" * 998 + "\n… (the full answer") and "``" not in start
    long_line = "y" * 3499 + "```" + "z" * 100
    head, *_ = split_message(long_line, 3500)
    assert head == "y" * 3499


def test_a_files_text_stays_as_written_and_always_encodes() -> None:
    # Slack parses no markup in a file: escaping would show "&amp;" to its reader.
    written = "<!channel> & <@U0OTHER> said \U0001f600"
    assert file_text(written) == written
    assert file_text("cut \ud800 here").encode() == "cut \ufffd here".encode()


def test_splitting_text_with_an_unclosed_token_still_ends() -> None:
    # Rendered text closes every "<" soon; were one left open, the cut that avoids cutting
    # into it found nowhere to cut, and the split looped for ever.
    parts = split_message("<" + "a" * 9000)
    assert "".join(parts) == "<" + "a" * 9000


HIDING = [
    "\u202eipa",  # drawn "api"
    "api\u200b",
    "a\u2066b\u2069",
    "api\U000e0041\U000e007f",  # tag characters: smuggled text nobody sees
    "api\ufe0f\U000e0100",  # variation selectors
    "prod\u00a0db",  # a space that is not " "
    "nul\x00 esc\x1b del\x7f c1\x85 line\u2028 cr\r",
    "soft\u00adhyphen \ufeffbom",
    "api\u034f\u180b\u17b4\U000e0080\u2800",  # default-ignorable marks, unassigned, blank
    "api\ue000",  # private use: a font's own glyph
    "api" + "\u0301" * 4,  # marks stacked into a smear
]


@pytest.mark.parametrize("text", HIDING, ids=range(len(HIDING)))
def test_visible_shows_what_draws_nothing_as_its_json_escape(text: str) -> None:
    out = visible(text)
    assert out.isascii() or all(c.isprintable() for c in out), repr(out)
    assert "\\u" in out
    assert json.loads(f'"{out}"') == text  # the escapes JSON reads: the value itself


def test_visible_leaves_what_draws_as_itself() -> None:
    for text in (
        "api",
        "deploy web 2.1.0",
        "line\nbreak\ttab",
        "café ☕ 日本 😀 שלום",
        "Vie\u0323\u0302t",  # "Việt", its two marks written apart
        "\u05e9\u05c1\u05b8\u0591",  # pointed Hebrew with a cantillation mark
    ):
        assert visible(text) == text


LOOK_ALIKES = {
    "\u0430pi": "\\u0430pi",  # a Cyrillic "а"
    "g\u03bf\u03bfgle": "g\\u03bf\\u03bfgle",  # Greek omicrons
    "\u0440\u0430\u0443": "\\u0440\\u0430\\u0443",  # all Cyrillic, drawn "pay"
    "\u0410PI-prod": "\\u0410PI-prod",  # a capital
    "\uff41\uff50\uff49": "\\uff41\\uff50\\uff49",  # fullwidth
    "\U0001d41a\U0001d429\U0001d422": "\\ud835\\udc1a\\ud835\\udc29\\ud835\\udc22",  # math bold
    "web \u0455taging": "web \\u0455taging",
    "\u0430\u03c1\u0456": "\\u0430\\u03c1\\u0456",  # Cyrillic, Greek rho, Cyrillic
    "c\u0430f\u00e9": "c\\u0430f\u00e9",  # beside a Latin letter with an accent
    "M\u00fcnch\u0435n": "M\u00fcnch\\u0435n",
    "\u30b5\u30fc\u30d0\u30fc\u0430pi\u3092\u518d\u8d77\u52d5": (
        "\u30b5\u30fc\u30d0\u30fc\\u0430pi\u3092\u518d\u8d77\u52d5"
    ),  # no spaces in Japanese
    "restart \u0430pi in \u041c\u043e\u0441\u043a\u0432\u0430": (
        "restart \\u0430pi in \u041c\u043e\u0441\u043a\u0432\u0430"
    ),
}


@pytest.mark.parametrize("text", sorted(LOOK_ALIKES), ids=range(len(LOOK_ALIKES)))
def test_visible_shows_a_letter_drawn_as_another_as_its_json_escape(text: str) -> None:
    """A Cyrillic "а" in "аpi" is drawn as the Latin "a": approving "restart аpi" runs a
    call to another service, as ``\\u202eipa`` did."""
    out = visible(text)
    assert out == LOOK_ALIKES[text]
    assert json.loads(f'"{out}"') == text


def test_visible_leaves_words_of_other_scripts_as_they_are() -> None:
    """A word with a letter no Latin one looks like is read as its own script."""
    for text in (
        "Москва",
        "api Москва",
        "Ελλάδα",
        "naïve café",
        "日本語 api",
        "Straße",
        "über",
        # Words made only of look-alikes, in text written in their own script.
        "у нас проблема с сервером",
        "ресурс недоступен",
        "Київ і Львів",
        "ο Γιάννης",
        "kapı açık mı",  # a dotless i is drawn without its dot
        "m² CO₂ nº 1º",  # a superscript, a subscript, an ordinal: not letters
    ):
        assert visible(text) == text, visible(text)


def test_control_bytes_and_terminal_sequences_never_reach_slack() -> None:
    coloured = "\x1b[1;31mERROR\x1b[0m: \x1b]8;;https://evil.example\x07link\x1b]8;;\x1b\\ done"
    assert without_controls(coloured) == "ERROR: link done"
    assert without_controls("a\x00b\x07c\x85d\x1b") == "a\ufffdb\ufffdc\ufffdd"
    assert without_controls("one\r\ntwo\rthree\tfour\n") == "one\ntwo\nthree\tfour\n"
    assert escape("\x1b[31m<!here>\x1b[0m") == "&lt;!here&gt;"


@pytest.mark.parametrize(
    "text",
    ["⚠️ maintenance", "1️⃣ first", "#️⃣", "👩‍💻 on call", "👨‍👩‍👧", "✔️ done", "❤️", "👍🏽"],
)
def test_visible_leaves_emoji_sequences_as_they_draw(text: str) -> None:
    """An emoji's presentation selector (U+FE0F after ⚠), a keycap, and the joiner inside a
    ZWJ sequence (👩‍💻) draw the emoji they form: escaping them showed ``\\ufe0f`` noise on
    every card and refused Edit & approve for any call with a common emoji."""
    assert visible(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "api\ufe0f",
        "⚠\ufe0f\ufe0f",
        "a\u200db",
        "👩\u200d",
        "\u200d💻",
        "👩\u200d\u200d💻",
        "ap\u200ci",
    ],
)
def test_visible_still_escapes_a_selector_or_joiner_that_forms_no_emoji(text: str) -> None:
    assert "\\u" in visible(text), visible(text)


@pytest.mark.parametrize("text", ["\U0001fa77", "\U0001faef", "ok \U0001fabf", "\u2764"])
def test_an_emoji_newer_than_pythons_unicode_data_draws_something(text: str) -> None:
    """Python 3.11 knows Unicode 14: 🩷 (Unicode 15) is "unassigned" to it, and an answer of
    only that emoji was replaced by a note saying it had nothing Slack can show."""
    assert not draws_nothing(text)


@pytest.mark.parametrize("text", ["", " \n", "\u200b\u200d", "\U000e0041\U000e0080", "\u2800"])
def test_text_of_only_characters_that_draw_nothing_draws_nothing(text: str) -> None:
    assert draws_nothing(text)
