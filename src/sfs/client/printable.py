"""Names shown safely on a terminal.

A name from the server, or from a folder, may hold an escape sequence (ESC [ … that recolours or
retitles the terminal), a text direction control (U+202E shows `gpj.exe` as `exe.jpg`) or an
invisible character. Before it is printed, each of those is written as its escape (`\\x1b`,
`\\u202e`), so what the screen shows is what the name is.
"""

from __future__ import annotations

import unicodedata

# Control, format (direction controls, zero-width), lone surrogates, line and paragraph breaks.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def printable(text: str) -> str:
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in _HIDDEN else ch
        for ch in text
    )
