"""Email and password sent by a WebDAV or Nextcloud client with every request (HTTP Basic).

The password is an app password of the account, or its account password where that is allowed:
never for an account with a second factor (or one its organisation requires), and otherwise only
when the organisation allows it (off by default). Failures count against the same limits as
logins, are audited like them, and all read the same from outside, whatever went wrong.

An account password costs an argon2 verification on every request; app passwords cost a digest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from sfs.auth.password_policy import MAX_LENGTH
from sfs.auth.secrets import digest
from sfs.auth.throttle import RateLimiters
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import AccountUnavailable, AuthenticationFailed, NotAuthenticated
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.models import User
from sfs.services.audit import AuditLog
from sfs.services.identity.actors import actor_of, require_may_log_in, require_password_current
from sfs.services.identity.app_passwords import AppPasswordService, canonical_app_password
from sfs.services.identity.login import LoginService
from sfs.services.identity.verified_credentials import VerifiedCredentials

REFUSED = N_(
    "Wrong email or app password. Create an app password for this device under My account → "
    "Devices and app passwords."
)


@dataclass(frozen=True)
class ClientLogin:
    actor: Actor
    # The app password used, or None for the account password.
    app_password_id: uuid.UUID | None


@dataclass(frozen=True)
class _Account:
    id: uuid.UUID
    organization_id: uuid.UUID | None
    password_hash: str | None
    account_password_allowed: bool


class ClientPasswordService:
    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        hasher: PasswordHasher,
        limiters: RateLimiters,
        login: LoginService,
        app_passwords: AppPasswordService,
        verified: VerifiedCredentials[ClientLogin] | None = None,
    ) -> None:
        self._database = database
        self._verified = verified
        self._audit = audit
        self._hasher = hasher
        self._limiters = limiters
        self._login = login
        self._app_passwords = app_passwords

    def authenticate(
        self, *, email: str, password: str, client: ClientInfo, channel: str
    ) -> ClientLogin:
        """Who these credentials belong to; `channel` ("webdav", "ocs") goes into the audit log.

        AuthenticationFailed for wrong credentials (counted and throttled: TooManyAttempts),
        NotAuthenticated with the reason when a right app password may not be used any more.
        """
        account_key = email.strip().casefold()[:254]
        address_key = client.address or "unknown"
        self._login.refuse_when_throttled(account_key, address_key, client)
        secret = canonical_app_password(password)
        # An app password verified moments ago from this client (see verified_credentials).
        key = (account_key, digest(secret), client) if secret is not None else None
        cache = self._verified
        if key is not None and cache is not None and (found := cache.get(key)) is not None:
            return found
        generation = cache.generation if cache is not None else 0
        account = self._account(account_key)

        if account is not None and secret is not None:
            token_id = self._app_passwords.find(account.id, secret)
            if token_id is not None:
                login = ClientLogin(self._app_passwords.use(token_id, client=client), token_id)
                if key is not None and cache is not None:
                    cache.remember(key, login, generation)
                return login

        if account is not None and account.account_password_allowed and account.password_hash:
            verified = len(password) <= MAX_LENGTH and self._hasher.verify(
                account.password_hash, password
            )
        else:
            # As slow as a real check: the answer's timing tells nothing about the account.
            self._hasher.burn_time(password[:MAX_LENGTH])
            verified = False
        if verified and account is not None:
            return ClientLogin(self._admit(account.id), None)

        self._limiters.login_account.hit(account_key)
        self._limiters.login_address.hit(address_key)
        with self._database.transaction() as session:
            self._audit.record(
                session,
                AuditEventType.LOGIN_FAILED,
                organization_id=account.organization_id if account else None,
                client=client,
                target_user_id=account.id if account else None,
                target_email=account_key,
                channel=channel,
                reason=_reason(account, secret),
            )
        raise AuthenticationFailed(REFUSED)

    def remembered(self, *, email: str, password: str, client: ClientInfo) -> ClientLogin | None:
        """What `authenticate` answered for this app password and client moments ago, when
        saying so again takes no query and no network (the login limits kept in this process,
        neither holding the account or address back): cheap enough for an event loop. None
        means: call `authenticate`, which answers (and audits) everything else."""
        cache = self._verified
        secret = canonical_app_password(password)
        if cache is None or secret is None:
            return None
        account_key = email.strip().casefold()[:254]
        if not self._login.unthrottled_here(account_key, client.address or "unknown"):
            return None
        return cache.get((account_key, digest(secret), client))

    def _account(self, account_key: str) -> _Account | None:
        with self._database.transaction() as session:
            row = session.scalars(select(User).where(User.email == account_key)).one_or_none()
            if row is None or row.organization is None:
                return None  # provider administrators have no files to reach
            organisation = row.organization
            return _Account(
                id=row.id,
                organization_id=row.organization_id,
                password_hash=row.password_hash,
                account_password_allowed=(
                    organisation.allow_account_password_clients
                    and not organisation.require_second_factor
                    and row.second_factor_method is None
                ),
            )

    def _admit(self, user_id: uuid.UUID) -> Actor:
        with self._database.transaction() as session:
            row = session.get(User, user_id)
            if row is None:
                raise NotAuthenticated()
            try:
                require_may_log_in(row)
            except AccountUnavailable as exc:
                raise NotAuthenticated(exc.message) from None
            require_password_current(row)
            return actor_of(row)


def _reason(account: _Account | None, secret: str | None) -> str:
    if account is None:
        return "unknown_account"
    if secret is not None:
        return "wrong_app_password"
    if not account.account_password_allowed:
        return "account_password_not_allowed"
    return "wrong_password"
