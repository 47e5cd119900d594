"""Letters drawn as Latin letters they are not: ``drawn_text.visible`` escapes them.

A Cyrillic "а" in "аpi" is drawn as the Latin "a", so a card asking to restart "аpi"
read as "api" and approving it ran a call to another service, as ``\\u202eipa`` did.
Unicode's full confusables table is not in the standard library; what is here is the
letters of other scripts that Slack's fonts draw as a Latin letter, and any letter that
normalizes (NFKC) to an ASCII one (fullwidth "ａ", mathematical "𝐚", a ligature "ﬁ").
"""

from __future__ import annotations

import unicodedata

__all__ = ["look_alikes"]

# Cyrillic, Greek, Armenian and Latin letters drawn as an ASCII letter. Not those only
# near one (Cyrillic "к", "в", Greek "α"): a Russian or Greek word is read as its own.
_DRAWN_AS_ASCII = frozenset(
    "аеорсухѕіјԁԛԝһӏ"  # Cyrillic small
    "АВЕКМНОРСТХЅІЈҮԚԜҺӀ"  # Cyrillic capital
    "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"  # Greek capital
    "ον"  # Greek small: omicron, nu
    "օս"  # Armenian small: oh, seh
    "ıɑɡǀ"  # Latin: dotless i, alpha, script g, dental click
)
_MARKS = frozenset({"Mn", "Me"})


def _word_char(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char) in _MARKS


def _drawn_as_ascii(char: str) -> bool:
    if char.isascii() or not char.isalnum():
        return False
    if char in _DRAWN_AS_ASCII:
        return True
    folded = unicodedata.normalize("NFKC", char)
    return folded.isascii() and folded.isalnum()


def _word_ends(text: str, start: int) -> int:
    end = start
    while end < len(text) and _word_char(text[end]):
        end += 1
    return end


def look_alikes(text: str) -> set[int]:
    """Where ``text`` has a letter drawn as an ASCII one it is not, in a word whose every
    other letter is ASCII or such a letter too ("аpi", "раy"; not "Москва")."""
    found: set[int] = set()
    at = 0
    while at < len(text):
        if not _word_char(text[at]):
            at += 1
            continue
        end = _word_ends(text, at)
        suspects = {i for i in range(at, end) if _drawn_as_ascii(text[i])}
        letters = (i for i in range(at, end) if text[i].isalnum() and not text[i].isascii())
        if suspects and all(i in suspects for i in letters):
            found.update(suspects)
        at = end
    return found
