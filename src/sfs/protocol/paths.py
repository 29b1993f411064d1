"""Names and paths as the server stores them; the sync client applies the same rules.

Names are NFC-normalised (macOS hands out NFD); a name that could not live on Windows, macOS and
Linux alike is refused with the reason, as Nextcloud's Windows-compatible names option does:
Windows' reserved characters (`<>:"/\\|?*`) and device names (`CON`, `NUL`, `COM1`, also as
`con.txt`), a trailing dot or space (Windows drops them), control characters (C0, DEL and C1),
and characters that make a name look like another: bidirectional controls (U+202E turns
`gpj.exe` around) and invisible ones (U+200B). A joiner (U+200C, U+200D) stays allowed between
two letters or emoji that are not ASCII, where scripts and emoji sequences need it, as do the
tags of a flag emoji. Case-insensitive sibling clashes are refused by the server's index, using
`name_key`.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096

WINDOWS_RESERVED_CHARACTERS = '<>:"/\\|?*'
# Windows opens the device, not a file, for these names, with any extension after a dot.
WINDOWS_DEVICE_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{port}{n}" for port in ("COM", "LPT") for n in "0123456789\u00b9\u00b2\u00b3"]
)
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_JOINERS = frozenset("\u200c\u200d")
_BLACK_FLAG = "\U0001f3f4"
_TAGS = range(0xE0020, 0xE0080)
_SUSPECT = re.compile(r'[^ -~]|[<>:"/\\|?*]')


class BadName(ValueError):
    """A name or path the service refuses; the message says why."""


def clean_name(raw: str) -> str:
    name = unicodedata.normalize("NFC", raw)
    if not name:
        raise BadName("A name must not be empty.")
    if name in (".", ".."):
        raise BadName(f"{name!r} is not allowed as a name.")
    if "/" in name:
        raise BadName(f"A name must not contain '/': {name!r}.")
    # Most names are printable ASCII without a reserved character: one search clears them.
    for position, ch in enumerate(name) if _SUSPECT.search(name) else ():
        if " " <= ch <= "~" and ch not in WINDOWS_RESERVED_CHARACTERS:
            continue
        category = unicodedata.category(ch)
        if category == "Cc":
            raise BadName("A name must not contain control characters (or NUL).")
        if category == "Cs":
            raise BadName("A name must be valid Unicode (it holds half of a surrogate pair).")
        if ch in WINDOWS_RESERVED_CHARACTERS:
            raise BadName(
                f"A name must not contain {ch!r}: Windows reserves the characters "
                f"{WINDOWS_RESERVED_CHARACTERS}."
            )
        if ch in BIDI_CONTROLS:
            raise BadName(
                f"A name must not contain text direction controls (U+{ord(ch):04X}): they make "
                "it read differently from what it is."
            )
        if category == "Cf" and not _format_character_allowed(name, position):
            raise BadName(
                f"A name must not contain invisible characters (U+{ord(ch):04X}): it would "
                "look the same as another name."
            )
    if name[-1] in " .":
        raise BadName("A name must not end with a space or a dot: Windows drops them.")
    device = name.split(".", 1)[0].rstrip(" ").upper()
    if device in WINDOWS_DEVICE_NAMES:
        raise BadName(f"{device!r} is a device name on Windows: it cannot name a file or folder.")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise BadName(f"A name may be at most {MAX_NAME_BYTES} bytes in UTF-8.")
    return name


def _format_character_allowed(name: str, position: int) -> bool:
    """An invisible format character in the few places where writing needs one."""
    ch = name[position]
    before = name[position - 1] if position > 0 else ""
    if ch in _JOINERS:
        after = name[position + 1] if position + 1 < len(name) else ""
        return _visible_beyond_ascii(before) and _visible_beyond_ascii(after)
    if ord(ch) in _TAGS or ord(ch) == 0xE007F:  # a flag emoji: U+1F3F4, tags, cancel tag
        return before == _BLACK_FLAG or (before != "" and ord(before) in _TAGS)
    return False


def _visible_beyond_ascii(ch: str) -> bool:
    return ch != "" and ord(ch) > 127 and unicodedata.category(ch) not in ("Cf", "Cc", "Zs")


def name_key(name: str) -> str:
    """The form under which siblings must be unique: case-folded NFC."""
    return unicodedata.normalize("NFC", name.casefold())


def split_path(raw: str) -> list[str]:
    """'/Documents/Report.odt' → ['Documents', 'Report.odt']; '' and '/' → [] (the root)."""
    if len(raw.encode(errors="surrogatepass")) > MAX_PATH_BYTES:  # a lone one: refused below
        raise BadName(f"A path may be at most {MAX_PATH_BYTES} bytes in UTF-8.")
    if "\x00" in raw:
        raise BadName("A path must not contain NUL.")
    parts = [part for part in raw.split("/") if part != ""]
    return [clean_name(part) for part in parts]


def join_path(parts: list[str]) -> str:
    return "/" + "/".join(parts)
