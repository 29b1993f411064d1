"""Who calls an OCS endpoint: HTTP Basic with an email and an app password (or the account
password where the app-password rules allow it), on every request.

A browser session cookie is never taken as credentials here, so a page on another site cannot
make a signed-in browser call OCS: Nextcloud's `OCS-APIREQUEST: true` header, its guard against
exactly that, is therefore accepted and not needed.
"""

from __future__ import annotations

from sfs.app import Services
from sfs.domain.actor import ClientInfo
from sfs.domain.errors import NotAuthenticated
from sfs.services.identity.client_passwords import ClientLogin
from sfs.web.basic_auth import basic_credentials

CHANNEL = "ocs"


def client_login(services: Services, authorization: str | None, client: ClientInfo) -> ClientLogin:
    """NotAuthenticated / AuthenticationFailed / TooManyAttempts unless the credentials hold
    (queries and maybe an argon2 check: call it from a worker thread)."""
    if not authorization:
        raise NotAuthenticated("Log in with your email and an app password.")
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise NotAuthenticated("Use HTTP Basic authentication with an app password.")
    email, password = basic_credentials(value.strip())
    return services.client_passwords.authenticate(
        email=email, password=password, client=client, channel=CHANNEL
    )
