"""Server-side browser sessions with idle and absolute timeouts from the organisation's policy."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete

from sfs.auth.secrets import digest, new_secret
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import AccountUnavailable, EnrolmentRequired, NotAuthenticated
from sfs.domain.policy import SESSION_ABSOLUTE_MINUTES_RANGE
from sfs.domain.stages import PENDING_LOGIN_LIFETIME, LoginStage
from sfs.metadata.db import Database
from sfs.metadata.models import User, WebSession
from sfs.ports import Clock, Randomness
from sfs.services.audit import AuditLog
from sfs.services.identity.actors import (
    actor_of,
    require_may_log_in,
    require_password_current,
    second_factor_due,
)

# Provider admins have no organisation policy; these are theirs.
DEFAULT_IDLE = timedelta(minutes=30)
DEFAULT_ABSOLUTE = timedelta(hours=12)
# Refreshing last_seen_at on every request would make every page view a write.
_TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class NewSession:
    cookie_value: str
    csrf_token: str


@dataclass(frozen=True)
class ActiveSession:
    actor: Actor
    csrf_token: str
    stage: LoginStage = LoginStage.ACTIVE

    @property
    def pending(self) -> bool:
        return self.stage is not LoginStage.ACTIVE


class WebSessionService:
    def __init__(
        self, database: Database, audit: AuditLog, clock: Clock, randomness: Randomness
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._randomness = randomness

    def start(
        self,
        actor: Actor,
        *,
        client: ClientInfo,
        replaces: str | None = None,
        stage: LoginStage = LoginStage.ACTIVE,
    ) -> NewSession:
        """A fresh session id at every login step; any session the browser held before is ended."""
        cookie_value = new_secret(self._randomness)
        csrf_token = self._randomness.token_urlsafe(32)
        now = self._clock.now()
        with self._database.transaction() as session:
            if replaces:
                old = session.get(WebSession, digest(replaces))
                if old is not None:
                    session.delete(old)
            session.add(
                WebSession(
                    id_hash=digest(cookie_value),
                    user_id=actor.user_id,
                    organization_id=actor.organization_id,
                    csrf_token=csrf_token,
                    created_at=now,
                    last_seen_at=now,
                    client_address=(client.address or "")[:64] or None,
                    user_agent=(client.user_agent or "")[:255] or None,
                    stage=stage.value,
                    stage_expires_at=None
                    if stage is LoginStage.ACTIVE
                    else now + PENDING_LOGIN_LIFETIME,
                )
            )
        return NewSession(cookie_value=cookie_value, csrf_token=csrf_token)

    def advance(self, cookie_value: str, *, stage: LoginStage, client: ClientInfo) -> NewSession:
        """Move a login on to `stage` under a new session id (the old id stops working)."""
        current = self.resolve(cookie_value, client=client, allow_pending=True)
        return self.start(current.actor, client=client, replaces=cookie_value, stage=stage)

    def resolve(
        self,
        cookie_value: str,
        *,
        client: ClientInfo,
        allow_pending: bool = False,
        allow_password_change: bool = False,
    ) -> ActiveSession:
        """The session behind a cookie; pending logins only when `allow_pending`.

        A signed-in session whose user owes a second factor (the organisation began requiring
        one, or it was reset) is at the enrolment stage again: EnrolmentRequired unless
        `allow_pending`. One whose user must replace a temporary password raises
        PasswordChangeRequired unless `allow_password_change` (the change-password page).
        """
        now = self._clock.now()
        with self._database.transaction() as session:
            row = session.get(WebSession, digest(cookie_value))
            if row is None:
                raise NotAuthenticated()
            user = session.get(User, row.user_id)
            assert user is not None  # sessions are deleted with their user
            idle, absolute = session_timeouts(user)
            expired = now - row.last_seen_at > idle or now - row.created_at > absolute
            if row.stage_expires_at is not None and now >= row.stage_expires_at:
                expired = True
            try:
                require_may_log_in(user)
            except AccountUnavailable:
                expired = True
            owes_second_factor = second_factor_due(user)
            if expired:
                session.delete(row)
                self._audit.record(
                    session,
                    AuditEventType.SESSION_EXPIRED,
                    organization_id=user.organization_id,
                    client=client,
                    target_user_id=user.id,
                    target_email=user.email,
                )
        if expired:
            raise NotAuthenticated("Your session has ended. Please log in again.")
        stage = LoginStage(row.stage)
        if stage is LoginStage.ACTIVE and owes_second_factor:
            stage = LoginStage.ENROLMENT
        if stage is LoginStage.ENROLMENT and not allow_pending:
            raise EnrolmentRequired("Set up two-factor authentication first.")
        if stage is not LoginStage.ACTIVE and not allow_pending:
            raise NotAuthenticated("Finish logging in first.")
        if stage is LoginStage.ACTIVE and not allow_password_change:
            require_password_current(user)
        if now - row.last_seen_at > _TOUCH_INTERVAL:
            with self._database.transaction() as session:
                current = session.get(WebSession, row.id_hash)
                if current is not None:
                    current.last_seen_at = now
        return ActiveSession(actor=actor_of(user), csrf_token=row.csrf_token, stage=stage)

    def drop_long_ended(self) -> int:
        """Delete browser sessions older than any organisation's absolute timeout can allow:
        ended for certain, never resolved again (a closed browser leaves its row behind)."""
        cutoff = self._clock.now() - timedelta(minutes=SESSION_ABSOLUTE_MINUTES_RANGE[1])
        with self._database.transaction() as session:
            ended = session.execute(
                delete(WebSession)
                .where(WebSession.created_at < cutoff)
                .execution_options(synchronize_session=False)
            )
            return int(ended.rowcount or 0)  # type: ignore[attr-defined]

    def discard(self, cookie_value: str) -> None:
        """Drop a pending login that has served its purpose (an API challenge answered)."""
        with self._database.transaction() as session:
            row = session.get(WebSession, digest(cookie_value))
            if row is not None:
                session.delete(row)

    def end(self, cookie_value: str, *, client: ClientInfo) -> None:
        with self._database.transaction() as session:
            row = session.get(WebSession, digest(cookie_value))
            if row is None:
                return
            user = session.get(User, row.user_id)
            session.delete(row)
            if user is not None:
                self._audit.record(
                    session,
                    AuditEventType.LOGOUT,
                    organization_id=user.organization_id,
                    client=client,
                    actor=actor_of(user),
                    target_user_id=user.id,
                    target_email=user.email,
                )


def browser_handle(id_hash: str) -> str:
    """Names a session on a page (to end it) without revealing its stored key."""
    return hashlib.sha256(f"handle:{id_hash}".encode()).hexdigest()[:32]


def session_timeouts(user: User) -> tuple[timedelta, timedelta]:
    """How long the user's sessions last idle, and at most: their organisation's policy."""
    policy = user.organization
    if policy is None:
        return DEFAULT_IDLE, DEFAULT_ABSOLUTE
    return (
        timedelta(minutes=policy.session_idle_minutes),
        timedelta(minutes=policy.session_absolute_minutes),
    )
