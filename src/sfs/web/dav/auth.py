"""Who is calling: HTTP Basic (email and app password, or account password where allowed), or a
sync client's bearer token. Every request carries its credentials; there is no session."""

from __future__ import annotations

from sfs.app import Services
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import AuthenticationFailed, NotAuthenticated, SfsError
from sfs.web.basic_auth import CHALLENGE, MAX_HEADER, basic_credentials

CHANNEL = "webdav"
__all__ = ["CHALLENGE", "CHANNEL", "authenticate", "remembered"]


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
    email, password = basic_credentials(value.strip())
    return services.client_passwords.authenticate(
        email=email, password=password, client=client, channel=CHANNEL
    ).actor


def remembered(services: Services, authorization: str | None, client: ClientInfo) -> Actor | None:
    """The actor `authenticate` found for these credentials moments ago, when saying so again
    takes no query and no network (cheap enough for the event loop); None for anything else,
    which `authenticate` answers (a refusal included)."""
    if not authorization or len(authorization) > MAX_HEADER:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        found = services.device_tokens.remembered(value.strip())
        return found[0] if found is not None else None
    if scheme.lower() != "basic":
        return None
    try:
        email, password = basic_credentials(value.strip())
    except SfsError:
        return None
    login = services.client_passwords.remembered(email=email, password=password, client=client)
    return login.actor if login is not None else None
