"""English and Dutch: the portal's and the emails' translations, and choosing between them.

English is the source language (the msgids). The Dutch catalogue lives in
`web/portal/locale/nl/LC_MESSAGES/messages.po` and is compiled to `.mo` at build time
(`make translations`). Code marks a string for translation with `_()` where it is translated
at once, or with `N_()` where it is only defined and translated later.
"""

from __future__ import annotations

import gettext
import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path

DEFAULT_LANGUAGE = "en"
LANGUAGES = ("en", "nl")
LANGUAGE_NAMES = {"en": "English", "nl": "Nederlands"}
LOCALE_DIR = Path(__file__).parent / "web" / "portal" / "locale"
DOMAIN = "messages"

_log = logging.getLogger(__name__)

Gettext = Callable[[str], str]


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


def clean_language(language: str | None) -> str:
    """A supported language code, or English."""
    code = (language or "").strip().lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


@cache
def translations(language: str) -> gettext.NullTranslations:
    code = clean_language(language)
    if code == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    try:
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[code])
    except FileNotFoundError:
        # An installation built without `make translations`: English beats a failed page.
        _log.warning("No compiled %s catalogue in %s; showing English.", code, LOCALE_DIR)
        return gettext.NullTranslations()


def translator(language: str | None) -> Gettext:
    """`gettext` for one language, for emails and anything else rendered outside a page."""
    return translations(clean_language(language)).gettext


def negotiate(accept_language: str | None) -> str | None:
    """The supported language a browser prefers most (RFC 9110 `Accept-Language`), if any."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")[:32]):
        tag, _, parameters = item.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if quality > 0 and primary in LANGUAGES:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else None
