"""Names and paths as the server stores them; the sync client applies the same rules.

Names are NFC-normalised (macOS hands out NFD); a name that could not live on Windows, macOS and
Linux alike is refused with the reason. Case-insensitive sibling clashes are refused by the
server's index, using `name_key`.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096


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
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise BadName("A name must not contain control characters (or NUL).")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise BadName(f"A name may be at most {MAX_NAME_BYTES} bytes in UTF-8.")
    return name


def name_key(name: str) -> str:
    """The form under which siblings must be unique: case-folded NFC."""
    return unicodedata.normalize("NFC", name.casefold())


def split_path(raw: str) -> list[str]:
    """'/Documents/Report.odt' → ['Documents', 'Report.odt']; '' and '/' → [] (the root)."""
    if len(raw.encode()) > MAX_PATH_BYTES:
        raise BadName(f"A path may be at most {MAX_PATH_BYTES} bytes in UTF-8.")
    if "\x00" in raw:
        raise BadName("A path must not contain NUL.")
    parts = [part for part in raw.split("/") if part != ""]
    return [clean_name(part) for part in parts]


def join_path(parts: list[str]) -> str:
    return "/" + "/".join(parts)
