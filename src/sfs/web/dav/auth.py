"""Who is calling: HTTP Basic (email and app password, or account password where allowed), or a
sync client's bearer token. Every request carries its credentials; there is no session."""

from __future__ import annotations

import base64
import binascii

from sfs.app import Services
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import AuthenticationFailed, NotAuthenticated

CHANNEL = "webdav"
CHALLENGE = 'Basic realm="Secure File Sync", charset="UTF-8"'
MAX_HEADER = 4096


def authenticate(services: Services, authorization: str | None, client: ClientInfo) -> Actor:
    """The actor, or NotAuthenticated / AuthenticationFailed / TooManyAttempts (runs queries and
    maybe an argon2 check: call it from a worker thread)."""
    if not authorization:
        raise NotAuthenticated("Log in with your email and an app password.")
    if len(authorization) > MAX_HEADER:
        raise AuthenticationFailed()
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return services.device_tokens.resolve(value.strip())[0]
    if scheme.lower() != "basic":
        raise NotAuthenticated("Use HTTP Basic authentication with an app password.")
    email, password = _basic_credentials(value.strip())
    return services.client_passwords.authenticate(
        email=email, password=password, client=client, channel=CHANNEL
    ).actor


def _basic_credentials(value: str) -> tuple[str, str]:
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
