"""My account: what a user sees and changes about themselves.

Their details, their signed-in browsers and devices (each revocable), their password (the
current one first), and their language.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sfs.auth.secrets import digest
from sfs.auth.throttle import RateLimiters
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import InvalidInput, NotFound, TooManyAttempts
from sfs.domain.roles import Role
from sfs.i18n import LANGUAGES, N_, translator
from sfs.metadata.db import Database
from sfs.metadata.models import DeviceToken, User, WebSession
from sfs.ports import Clock
from sfs.services.audit import AuditLog
from sfs.services.identity.account_rules import (
    check_new_password,
    close_account_tokens,
    min_password_length,
    second_factor_label,
)
from sfs.services.identity.credentials import sign_out_everywhere
from sfs.services.identity.device_tokens import DEFAULT_IDLE_DAYS, live_tokens
from sfs.services.identity.web_sessions import browser_handle, session_timeouts
from sfs.services.notifications import Notifier


@dataclass(frozen=True)
class SignedInBrowser:
    handle: str  # names the session on the page without revealing its stored key
    created_at: datetime
    last_seen_at: datetime
    client_address: str | None
    user_agent: str | None
    is_current: bool


@dataclass(frozen=True)
class SignedInDevice:
    id: uuid.UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class MyAccount:
    id: uuid.UUID
    display_name: str
    email: str
    organization_name: str | None
    role: Role
    language: str | None
    second_factor: str
    second_factor_set_up: bool
    must_change_password: bool
    last_login_at: datetime | None
    password_changed_at: datetime | None
    browsers: list[SignedInBrowser]
    devices: list[SignedInDevice]


class MyAccountService:
    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        clock: Clock,
        hasher: PasswordHasher,
        limiters: RateLimiters,
        notifier: Notifier,
        *,
        device_idle_days: int = DEFAULT_IDLE_DAYS,
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._hasher = hasher
        self._limiters = limiters
        self._notifier = notifier
        self._device_idle = timedelta(days=device_idle_days)

    def overview(self, actor: Actor, *, current_session_cookie: str | None = None) -> MyAccount:
        current_hash = digest(current_session_cookie) if current_session_cookie else None
        now = self._clock.now()
        with self._database.transaction() as session:
            user = _own(session, actor)
            idle, absolute = session_timeouts(user)
            browsers = [
                SignedInBrowser(
                    handle=browser_handle(row.id_hash),
                    created_at=row.created_at,
                    last_seen_at=row.last_seen_at,
                    client_address=row.client_address,
                    user_agent=row.user_agent,
                    is_current=row.id_hash == current_hash,
                )
                for row in session.scalars(
                    select(WebSession)
                    .where(WebSession.user_id == user.id, WebSession.stage == "active")
                    .order_by(WebSession.last_seen_at.desc())
                )
                if now - row.last_seen_at <= idle and now - row.created_at <= absolute
            ]
            devices = [
                SignedInDevice(
                    id=row.id,
                    name=row.name,
                    created_at=row.created_at,
                    last_used_at=row.last_used_at,
                )
                for row in session.scalars(
                    select(DeviceToken)
                    .where(DeviceToken.user_id == user.id, live_tokens(now, self._device_idle))
                    .order_by(DeviceToken.created_at)
                )
            ]
            return MyAccount(
                id=user.id,
                display_name=user.display_name,
                email=user.email,
                organization_name=user.organization.name if user.organization else None,
                role=Role(user.role),
                language=user.language,
                second_factor=second_factor_label(user.second_factor_method),
                second_factor_set_up=user.second_factor_method is not None,
                must_change_password=user.must_change_password,
                last_login_at=user.last_login_at,
                password_changed_at=user.password_changed_at,
                browsers=browsers,
                devices=devices,
            )

    def change_password(
        self,
        actor: Actor,
        *,
        current_password: str,
        new_password: str,
        confirm_password: str,
        sign_out_other_sessions: bool,
        client: ClientInfo,
        current_session_cookie: str | None = None,
    ) -> None:
        """The current password proves it is the user; wrong guesses count as failed logins."""
        throttle_key = actor.email.casefold()
        limiter = self._limiters.login_account
        if not limiter.test(throttle_key):
            raise TooManyAttempts(retry_after_seconds=limiter.resets_in(throttle_key))
        with self._database.transaction() as session:
            user = _own(session, actor)
            stored_hash = user.password_hash
            email, name, language, min_length = (
                user.email,
                user.display_name,
                user.language,
                min_password_length(session, user),
            )
        if stored_hash is None or not self._hasher.verify(stored_hash, current_password):
            limiter.hit(throttle_key)
            raise InvalidInput(
                N_("Your current password is not correct."), field="current_password"
            )
        if new_password == current_password:
            raise InvalidInput(
                N_("The new password must differ from the current one."), field="new_password"
            )
        check_new_password(
            new_password, confirm_password, email=email, display_name=name, min_length=min_length
        )
        password_hash = self._hasher.hash(new_password)  # slow: kept outside the transaction
        now = self._clock.now()
        with self._database.transaction() as session:
            user = _own(session, actor)
            if user.password_hash != stored_hash:
                # Changed by someone else (an admin, another tab) since we checked: start over.
                raise InvalidInput(
                    N_("Your password was changed meanwhile. Please try again."),
                    field="current_password",
                )
            user.password_hash = password_hash
            user.password_changed_at = now
            user.must_change_password = False
            if sign_out_other_sessions:
                keep = digest(current_session_cookie) if current_session_cookie else None
                sign_out_everywhere(session, user.id, now, keep_session=keep)
            close_account_tokens(session, user.id, now, purpose="password_reset")
            self._audit.record(
                session,
                AuditEventType.PASSWORD_CHANGED,
                organization_id=user.organization_id,
                client=client,
                actor=actor,
                target_user_id=user.id,
                target_email=user.email,
                signed_out_other_sessions=sign_out_other_sessions,
            )
        limiter.clear(throttle_key)
        _ = translator(language)  # the email speaks the recipient's language
        changed = _("The password of your Secure File Sync account was changed.")
        if sign_out_other_sessions:
            changed += " " + _("Your other sessions and devices were signed out.")
        self._notifier.send(
            to=email,
            subject=_("Your Secure File Sync password was changed"),
            body=(
                _("Hello %(name)s,") % {"name": name}
                + f"\n\n{changed}\n\n"
                + _("If you did not do this, contact your administrator at once.")
                + "\n"
            ),
        )

    def set_language(self, actor: Actor, *, language: str, client: ClientInfo) -> None:
        if language not in LANGUAGES:
            raise InvalidInput(N_("Choose English or Nederlands."), field="language")
        with self._database.transaction() as session:
            user = _own(session, actor)
            if user.language == language:
                return
            user.language = language
            self._audit.record(
                session,
                AuditEventType.LANGUAGE_CHANGED,
                organization_id=user.organization_id,
                client=client,
                actor=actor,
                target_user_id=user.id,
                target_email=user.email,
                language=language,
            )

    def revoke_browser(self, actor: Actor, *, handle: str, client: ClientInfo) -> None:
        """Sign out one of the user's own browser sessions."""
        with self._database.transaction() as session:
            rows = session.scalars(select(WebSession).where(WebSession.user_id == actor.user_id))
            row = next((r for r in rows if browser_handle(r.id_hash) == handle), None)
            if row is None:
                raise NotFound(N_("No such session."))
            session.delete(row)
            self._audit.record(
                session,
                AuditEventType.SESSION_REVOKED,
                organization_id=actor.organization_id,
                client=client,
                actor=actor,
                target_user_id=actor.user_id,
                target_email=actor.email,
            )


def _own(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound(N_("No such account."))
    return user
