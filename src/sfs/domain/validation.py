"""Input rules shared by every adapter: emails, display names, organisation names, and the
ranges of numbers and times (`sfs.protocol.limits`) the services refuse to go beyond."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime

from email_validator import EmailNotValidError, validate_email

from sfs.domain.errors import InvalidInput
from sfs.i18n import N_
from sfs.protocol.limits import (
    EARLIEST_DAY,
    LATEST_DAY,
    MAX_SEQUENCE,
    MAX_VERSION,
    TIME_WINDOW_TEXT,
    in_day_window,
    in_time_window,
)

MAX_EMAIL_LENGTH = 254
MAX_DISPLAY_NAME_LENGTH = 100
MAX_ORGANISATION_NAME_LENGTH = 100


def normalize_email(raw: str) -> str:
    """The canonical login name: syntax-checked, domain lower-cased, whole address case-folded.

    Login names are unique case-insensitively, so the stored key is lower-case throughout.
    """
    if len(raw) > MAX_EMAIL_LENGTH:
        raise InvalidInput(
            N_(
                "Email address is too long (at most %(MAX_EMAIL_LENGTH)s characters).",
                MAX_EMAIL_LENGTH=MAX_EMAIL_LENGTH,
            ),
            field="email",
        )
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(
            N_("Not a valid email address: %(exc)s", exc=exc), field="email"
        ) from None
    return checked.normalized.lower()


def clean_display_name(raw: str) -> str:
    return clean_label(raw, what="Name", field="name", limit=MAX_DISPLAY_NAME_LENGTH)


def clean_organisation_name(raw: str) -> str:
    return clean_label(
        raw, what="Organisation name", field="organisation", limit=MAX_ORGANISATION_NAME_LENGTH
    )


def clean_label(raw: str, *, what: str, field: str, limit: int) -> str:
    text = unicodedata.normalize("NFC", raw).strip()
    if not text:
        raise InvalidInput(N_("%(what)s must not be empty.", what=what), field=field)
    if len(text) > limit:
        raise InvalidInput(
            N_("%(what)s is too long (at most %(limit)s characters).", what=what, limit=limit),
            field=field,
        )
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidInput(
            N_("%(what)s must not contain control characters.", what=what), field=field
        )
    return text


def check_time(value: datetime, *, field: str) -> datetime:
    """A file's modification time inside the window, as aware UTC; else InvalidInput."""
    if value.utcoffset() is None:
        raise InvalidInput(
            N_("%(field)s needs a time zone offset (as in 2026-01-31T12:00:00Z).", field=field),
            field=field,
        )
    if not in_time_window(value):
        raise InvalidInput(
            N_(
                "%(field)s must lie %(TIME_WINDOW_TEXT)s.",
                field=field,
                TIME_WINDOW_TEXT=TIME_WINDOW_TEXT,
            ),
            field=field,
        )
    return value.astimezone(UTC)


def check_day(day: date, *, field: str) -> date:
    if not in_day_window(day):
        raise InvalidInput(
            N_(
                "%(field)s must lie from %(isoformat)s to %(isoformat2)s.",
                field=field,
                isoformat=EARLIEST_DAY.isoformat(),
                isoformat2=LATEST_DAY.isoformat(),
            ),
            field=field,
        )
    return day


def check_version_number(number: int, *, field: str) -> int:
    if not 1 <= number <= MAX_VERSION:
        raise InvalidInput(
            N_(
                "%(field)s must be a version number, 1 to %(MAX_VERSION)s.",
                field=field,
                MAX_VERSION=MAX_VERSION,
            ),
            field=field,
        )
    return number


def check_sequence(number: int, *, field: str, least: int = 0) -> int:
    """A cursor, an id or an offset: a whole number from `least` up to 2^63 - 1."""
    if not least <= number <= MAX_SEQUENCE:
        raise InvalidInput(
            N_(
                "%(field)s must be %(least)s to %(MAX_SEQUENCE)s.",
                field=field,
                least=least,
                MAX_SEQUENCE=MAX_SEQUENCE,
            ),
            field=field,
        )
    return number
