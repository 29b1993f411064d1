"""English and Dutch: the portal's and the emails' translations, and choosing between them.

English is the source language (the msgids). The Dutch catalogue lives in
`web/portal/locale/nl/LC_MESSAGES/messages.po` and is compiled to `.mo` at build time
(`make translations`). Code marks a string for translation with `_()` where it is translated
at once, or with `N_()` where it is only defined and translated later.
"""

from __future__ import annotations

import gettext
import logging
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

DEFAULT_LANGUAGE = "en"
LANGUAGES = ("en", "nl")
LANGUAGE_NAMES = {"en": "English", "nl": "Nederlands"}
LOCALE_DIR = Path(__file__).parent / "web" / "portal" / "locale"
DOMAIN = "messages"

_log = logging.getLogger(__name__)

Gettext = Callable[[str], str]


class Message(str):
    """English text with what it takes to say it in another language later.

    It *is* the English string (the REST API, the CLI and the logs use it as it is), and keeps
    its msgid and values so a page or an email can translate it: `in_language(translations)`.
    """

    __slots__ = ("params", "plural", "quantity", "template")

    template: str
    plural: str | None
    quantity: int | None
    params: Mapping[str, object]

    def __new__(
        cls,
        template: str,
        params: Mapping[str, object],
        *,
        plural: str | None = None,
        count: int | None = None,
    ) -> Message:
        english = template if plural is None or count == 1 else plural
        made = super().__new__(cls, english % params if params else english)
        made.template, made.plural, made.quantity, made.params = template, plural, count, params
        return made

    def in_language(self, catalogue: gettext.NullTranslations) -> str:
        if self.plural is not None and self.quantity is not None:
            text = catalogue.ngettext(self.template, self.plural, self.quantity)
        else:
            text = catalogue.gettext(self.template)
        return text % self.params if self.params else text


def N_(message: str, **params: object) -> str:
    """Mark a string for extraction without translating it here.

    With values (`N_("%(name)s is a folder.", name=name)`) it is filled in now, in English, and
    stays translatable (a `Message`).
    """
    return Message(message, params) if params else message


def plural_message(singular: str, plural: str, count: int, **params: object) -> str:
    """N_ for a text with a number in it: the right plural form, now and once translated.

    `count` is also the value of `%(num)d`. (Extracted by `make messages` as a plural keyword.)
    """
    return Message(singular, {"num": count, **params}, plural=plural, count=count)


def localize(text: str, catalogue: gettext.NullTranslations) -> str:
    """A text from code (a msgid or a `Message`) in the catalogue's language."""
    if isinstance(text, Message):
        return text.in_language(catalogue)
    return catalogue.gettext(text)


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
    """`gettext` for one language, for emails and anything else rendered outside a page.

    A `Message` (a service's text with values in it) is translated too.
    """
    catalogue = translations(clean_language(language))
    return lambda text: localize(text, catalogue)


def ngettext(singular: str, plural: str, count: int, *, language: str | None) -> str:
    """The right plural form in `language`, with `%(num)d` filled in (for emails)."""
    chosen = translations(clean_language(language)).ngettext(singular, plural, count)
    return chosen % {"num": count}


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
