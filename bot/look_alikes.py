"""Letters drawn as Latin letters they are not: ``drawn_text.visible`` escapes them.

A Cyrillic "а" in "аpi" is drawn as the Latin "a", so a card asking to restart "аpi"
read as "api" and approving it ran a call to another service, as ``\\u202eipa`` did.
Unicode's full confusables table is not in the standard library; what is here is the
letters of other scripts that Slack's fonts draw as a Latin letter, and any letter or
digit that normalizes (NFKC) to an ASCII one (fullwidth "ａ", mathematical "𝐚", "ﬁ").

Such a letter is escaped in a word that holds a Latin letter too ("аpi", "cаfé", and in
Japanese, written without spaces, "サーバーаpiを再起動"), and in a word made only of
such letters ("раураl" without its "l") unless the text is written in their script: a
letter of it that no Latin one resembles ("у нас проблема", "ο Γιάννης") says so, and
Russian or Greek is then read as itself.
"""

from __future__ import annotations

import unicodedata

__all__ = ["look_alikes"]

# Cyrillic, Greek and Armenian letters drawn as an ASCII letter. Not those only near one
# (Cyrillic "к", "в", Greek "α", the Turkish dotless "ı"): a word of them is read as such.
_DRAWN_AS_ASCII = frozenset(
    "аеорсухѕіјԁԛԝһӏ"  # Cyrillic small
    "АВЕКМНОРСТХЅІЈҮԚԜҺӀ"  # Cyrillic capital
    "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"  # Greek capital
    "ορϲϳν"  # Greek small: omicron, rho, lunate sigma, yot, nu
    "օս"  # Armenian small: oh, seh
)
_MARKS = frozenset({"Mn", "Me"})
# What NFKC may fold to ASCII and still be a letter or digit of its own: not "²", "₂"
# (numbers), nor "º" (an ordinal indicator, category Lo), which read as what they are.
_FOLDED_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Nd"})


def _word_char(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char) in _MARKS


def _drawn_as_ascii(char: str) -> bool:
    if char.isascii() or not char.isalnum():
        return False
    if char in _DRAWN_AS_ASCII:
        return True
    if unicodedata.category(char) not in _FOLDED_CATEGORIES:
        return False
    folded = unicodedata.normalize("NFKC", char)
    return folded.isascii() and folded.isalnum()


def _latin(char: str) -> bool:
    """A Latin letter, accented or not ("é", "ü" are no other script)."""
    if char.isascii():
        return char.isalpha()
    return char.isalpha() and unicodedata.name(char, "").startswith("LATIN ")


def _own_script(char: str) -> bool:
    """A letter of another script that no Latin one resembles (Cyrillic "н", Greek "Γ")."""
    return char.isalpha() and not _latin(char) and not _drawn_as_ascii(char)


def _words(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    at = 0
    while at < len(text):
        if not _word_char(text[at]):
            at += 1
            continue
        end = at
        while end < len(text) and _word_char(text[end]):
            end += 1
        spans.append((at, end))
        at = end
    return spans


def look_alikes(text: str) -> set[int]:
    """Where ``text`` has a letter drawn as an ASCII one it is not (see above)."""
    found: set[int] = set()
    written_in_another_script: bool | None = None  # looked at once, if needed
    for start, end in _words(text):
        suspects = {i for i in range(start, end) if _drawn_as_ascii(text[i])}
        if not suspects:
            continue
        if any(_latin(text[i]) for i in range(start, end)):
            found.update(suspects)
            continue
        if any(_own_script(text[i]) for i in range(start, end)):
            continue  # "Москва": a word of its own script
        if written_in_another_script is None:
            written_in_another_script = any(_own_script(c) for c in text)
        if not written_in_another_script:
            found.update(suspects)
    return found
