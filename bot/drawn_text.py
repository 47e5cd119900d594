"""Text as it is drawn: what a character shows, or hides, in Slack.

``visible`` is what an approver reads arguments through: a character that draws nothing or
changes how the others draw is written as its JSON escape, so what they read is what runs
(Slack drew ``\\u202eipa`` as "api"; a Cyrillic "а" draws "аpi" as "api").
``without_controls`` keeps a terminal's escape sequences and control bytes out of any text
signoff posts (``slack_text.escape``), and ``draws_nothing`` says when nothing of a text
would show.
"""

from __future__ import annotations

import re
import unicodedata

from .look_alikes import look_alikes

__all__ = ["draws_nothing", "visible", "without_controls"]

# A terminal's escape sequence: CSI (colours, cursor moves), OSC (titles, hyperlinks: to
# BEL, ST or the end of its line), or a two-character escape. One cut short (a tool's
# output truncated) took every line after it up to the next ESC or BEL; it ends with its
# line, which keeps what a streamed reply sent a prefix of what follows.
_TERMINAL_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b\n\r]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_OR_CR = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ASCII_HIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Drawn as nothing, yet not in the categories ``visible`` escapes: the rest of Unicode's
# Default_Ignorable_Code_Point (the grapheme joiner, the Mongolian and other variation
# selectors, on which smuggled text rides as on tag characters, Khmer's inherent vowels,
# the Hangul fillers) and the blank Braille pattern.
_BLANK = frozenset(
    [
        0x034F,
        0x115F,
        0x1160,
        0x17B4,
        0x17B5,
        *range(0x180B, 0x1810),
        0x2800,
        0x3164,
        *range(0xFE00, 0xFE10),
        0xFFA0,
        *range(0xE0100, 0xE01F0),
    ]
)
# Not assigned yet (some in ranges Unicode keeps invisible) or private use (a font's own
# glyph, an icon): what they draw, if anything, is not the text.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp", "Zs"})
_MARK_CATEGORIES = frozenset({"Mn", "Me"})
# Combining marks on one letter: Vietnamese writes two ("ệ"), pointed Hebrew three; more
# stack into a smear over the lines above and below (the other arguments, the hash).
_MAX_MARKS = 3
# What an emoji is drawn from: its presentation selectors, and the joiner of a sequence
# (👩 ZWJ 💻 draws 👩‍💻). Each is kept only where it forms an emoji: a selector right
# after a symbol or a keycap's base, a joiner between two symbols; anywhere else it
# draws nothing, and smuggled text rides on such runs.
_SELECTORS = frozenset("\ufe0e\ufe0f")
_JOINER = "\u200d"
_KEYCAP_BASES = frozenset("0123456789#*")


def _hidden(char: str) -> bool:
    if char in "\n\t ":
        return False
    return ord(char) in _BLANK or unicodedata.category(char) in _HIDDEN_CATEGORIES


def _symbol(char: str) -> bool:
    return unicodedata.category(char) == "So"


def _forms_emoji(text: str, at: int) -> bool:
    """Is the selector or joiner at ``text[at]`` part of the emoji it draws?"""
    char, before = text[at], text[at - 1] if at else ""
    if char in _SELECTORS:
        return bool(before) and (_symbol(before) or before in _KEYCAP_BASES)
    if char != _JOINER or not before or at + 1 >= len(text) or not _symbol(text[at + 1]):
        return False
    if before in _SELECTORS:  # a symbol's own selector: ⚠️ ZWJ …
        return at >= 2 and _symbol(text[at - 2])
    return _symbol(before) or unicodedata.category(before) == "Sk"  # Sk: a skin tone


def _marks(run: list[str]) -> str:
    return "".join(run) if len(run) <= _MAX_MARKS else "".join(map(_json_escape, run))


def visible(text: str) -> str:
    """``text`` with each character that draws nothing or changes how the others draw
    (controls but a line break and a tab, a bidi override, a zero-width, tag, unassigned
    or private-use character, a space other than " ", a run of more than three combining
    marks) written as JSON writes it escaped (``\\u202e``; past U+FFFF a surrogate pair),
    so JSON stays JSON. An approver reads arguments through it: Slack drew ``\\u202eipa``
    as "api", and approving that ran a call to another service. A letter drawn as an
    ASCII one it is not (the Cyrillic "а" of "аpi", ``look_alikes``) is escaped too. An
    emoji's own selector and joiner draw the emoji, and stay."""
    if text.isascii() and not _ASCII_HIDDEN.search(text):
        return text
    out: list[str] = []
    run: list[str] = []  # the combining marks since the last other character
    alike = look_alikes(text)
    for at, char in enumerate(text):
        hidden = (_hidden(char) and not _forms_emoji(text, at)) or at in alike
        if not hidden and unicodedata.category(char) in _MARK_CATEGORIES:
            run.append(char)
            continue
        out.append(_marks(run))
        run.clear()
        out.append(_json_escape(char) if hidden else char)
    out.append(_marks(run))
    return "".join(out)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def without_controls(text: str) -> str:
    """``text`` without a terminal's escape sequences, and with any other control character
    (but a line break and a tab; a carriage return ends a line) as U+FFFD."""
    if not _CONTROL_OR_CR.search(text):
        return text
    text = _TERMINAL_SEQUENCE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("\ufffd", text)


def draws_nothing(text: str) -> bool:
    """Would ``text`` show nothing at all: only spaces and characters that draw nothing
    (zero-width, joiners, tags)? Slack refuses an empty text and shows such a one blank."""
    return all(char.isspace() or (_hidden(char) and not _newer_emoji(char)) for char in text)


def _newer_emoji(char: str) -> bool:
    """Unassigned to Python 3.11's Unicode 14 data, in the blocks emoji are added to: a
    newer emoji (🩷 is Unicode 15) that Slack draws."""
    return 0x1F000 <= ord(char) <= 0x1FAFF and unicodedata.category(char) == "Cn"
