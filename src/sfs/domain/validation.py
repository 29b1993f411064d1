"""Input rules shared by every adapter: emails, display names, organisation names."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from sfs.domain.errors import InvalidInput

MAX_EMAIL_LENGTH = 254
MAX_DISPLAY_NAME_LENGTH = 100
MAX_ORGANISATION_NAME_LENGTH = 100


def normalize_email(raw: str) -> str:
    """The canonical login name: syntax-checked, domain lower-cased, whole address case-folded.

    Login names are unique case-insensitively, so the stored key is lower-case throughout.
    """
    if len(raw) > MAX_EMAIL_LENGTH:
        raise InvalidInput(
            f"Email address is too long (at most {MAX_EMAIL_LENGTH} characters).", field="email"
        )
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"Not a valid email address: {exc}", field="email") from None
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
        raise InvalidInput(f"{what} must not be empty.", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{what} is too long (at most {limit} characters).", field=field)
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidInput(f"{what} must not contain control characters.", field=field)
    return text
