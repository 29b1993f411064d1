"""HTTP Basic credentials, as WebDAV and Nextcloud clients send them with every request."""

from __future__ import annotations

import base64
import binascii

from sfs.domain.errors import AuthenticationFailed

CHALLENGE = 'Basic realm="Secure File Sync", charset="UTF-8"'
MAX_HEADER = 4096


def basic_credentials(value: str) -> tuple[str, str]:
    """(email, password) from the base64 part of an `Authorization: Basic …` header."""
    if len(value) > MAX_HEADER:
        raise AuthenticationFailed()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise AuthenticationFailed() from None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")  # what older clients send
    email, colon, password = decoded.partition(":")
    if not colon or not email:
        raise AuthenticationFailed()
    return email, password
