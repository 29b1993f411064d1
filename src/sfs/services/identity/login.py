"""Password login with throttling per account and per client address.

Every failure looks the same from outside ("wrong email or password") and takes the same time,
whether or not the account exists.
"""

from __future__ import annotations

from sqlalchemy import select

from sfs.auth.password_policy import MAX_LENGTH
from sfs.auth.throttle import RateLimiters
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import AuthenticationFailed, TooManyAttempts
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.models import User
from sfs.ports import Clock
from sfs.services.audit import AuditLog
from sfs.services.identity.actors import actor_of, require_may_log_in


class LoginService:
    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        clock: Clock,
        hasher: PasswordHasher,
        limiters: RateLimiters,
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._hasher = hasher
        self._limiters = limiters

    def authenticate(self, *, email: str, password: str, client: ClientInfo, channel: str) -> Actor:
        """Check email and password; `channel` ("web", "api") is recorded in the audit log."""
        account_key = email.strip().casefold()[:254]
        address_key = client.address or "unknown"
        self.refuse_when_throttled(account_key, address_key, client)

        with self._database.transaction() as session:
            row = session.scalars(select(User).where(User.email == account_key)).one_or_none()
            stored_hash = row.password_hash if row is not None else None
        if len(password) > MAX_LENGTH or stored_hash is None:
            self._hasher.burn_time(password)
            verified = False
        else:
            verified = self._hasher.verify(stored_hash, password)

        if not verified or row is None or stored_hash is None:
            self._limiters.login_account.hit(account_key)
            self._limiters.login_address.hit(address_key)
            with self._database.transaction() as session:
                self._audit.record(
                    session,
                    AuditEventType.LOGIN_FAILED,
                    organization_id=row.organization_id if row else None,
                    client=client,
                    target_user_id=row.id if row else None,
                    target_email=account_key,
                    channel=channel,
                    reason="wrong_password" if row else "unknown_account",
                )
            raise AuthenticationFailed()

        with self._database.transaction() as session:
            user = session.get(User, row.id)
            assert user is not None
            require_may_log_in(user)
            self._limiters.login_account.clear(account_key)
            if self._hasher.needs_rehash(stored_hash):
                user.password_hash = self._hasher.hash(password)
                self._audit.record(
                    session,
                    AuditEventType.PASSWORD_REHASHED,
                    organization_id=user.organization_id,
                    client=client,
                    target_user_id=user.id,
                    target_email=user.email,
                )
            user.last_login_at = self._clock.now()
            actor = actor_of(user)
            self._audit.record(
                session,
                AuditEventType.LOGIN_SUCCEEDED,
                organization_id=user.organization_id,
                client=client,
                actor=actor,
                target_user_id=user.id,
                target_email=user.email,
                channel=channel,
            )
            return actor

    def password_change_required(self, actor: Actor) -> bool:
        """Whether an administrator asked this user to choose a new password at this login."""
        with self._database.transaction() as session:
            user = session.get(User, actor.user_id)
            return bool(user and user.must_change_password)

    def confirm_password(self, actor: Actor, *, password: str, client: ClientInfo) -> None:
        """Re-check the password of someone mid-login or signed in, under the same throttling."""
        account_key = actor.email
        address_key = client.address or "unknown"
        self.refuse_when_throttled(account_key, address_key, client)
        with self._database.transaction() as session:
            user = session.get(User, actor.user_id)
            stored_hash = user.password_hash if user is not None else None
        if stored_hash is not None and len(password) <= MAX_LENGTH:
            if self._hasher.verify(stored_hash, password):
                return
        else:
            self._hasher.burn_time(password)
        self._limiters.login_account.hit(account_key)
        self._limiters.login_address.hit(address_key)
        with self._database.transaction() as session:
            self._audit.record(
                session,
                AuditEventType.LOGIN_FAILED,
                organization_id=actor.organization_id,
                client=client,
                actor=actor,
                target_user_id=actor.user_id,
                target_email=actor.email,
                reason="wrong_password_on_confirmation",
            )
        raise AuthenticationFailed(N_("The password is not right."))

    def unthrottled_here(self, account_key: str, address_key: str) -> bool:
        """True when neither login limiter holds these keys back and that was known without
        I/O (limits kept in this process); False means: ask `refuse_when_throttled`."""
        limiters = self._limiters
        return (
            limiters.login_account.local
            and limiters.login_address.local
            and limiters.login_account.test(account_key)
            and limiters.login_address.test(address_key)
        )

    def refuse_when_throttled(self, account_key: str, address_key: str, client: ClientInfo) -> None:
        limiters = self._limiters
        blocked = [
            (limiter, key)
            for limiter, key in (
                (limiters.login_account, account_key),
                (limiters.login_address, address_key),
            )
            if not limiter.test(key)
        ]
        if not blocked:
            return
        retry_after = max(limiter.resets_in(key) for limiter, key in blocked)
        with self._database.transaction() as session:
            self._audit.record(
                session,
                AuditEventType.LOGIN_THROTTLED,
                organization_id=None,
                client=client,
                target_email=account_key,
                limiters=[limiter.name for limiter, _ in blocked],
            )
        raise TooManyAttempts(retry_after_seconds=retry_after)
