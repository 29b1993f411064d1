"""Bearer tokens for API clients, one per device, each revocable on its own.

The secret is shown once when issued; only its digest is stored. A token not used for the idle
period (90 days by default) stops working, whatever kind of device holds it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from sfs.auth.secrets import digest, new_secret
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import (
    AccountUnavailable,
    DeviceWiped,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)
from sfs.domain.validation import clean_label
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.models import DeviceToken, User
from sfs.ports import Clock, Randomness
from sfs.services.audit import AuditLog
from sfs.services.identity.actors import (
    actor_of,
    require_may_log_in,
    require_password_current,
)
from sfs.services.identity.device_mail import DeviceMail
from sfs.services.identity.verified_credentials import VerifiedCredentials

TOKEN_PREFIX = "sfs_"  # noqa: S105 (a prefix, not a secret)
DEFAULT_IDLE_DAYS = 90
# Writing last_used_at on every request would make every API call a write; the idle period
# is counted in days, so five minutes of slack does not matter.
_TOUCH_INTERVAL = timedelta(minutes=5)
# A sync client names the space it keeps in sync; the Devices page lists a few per device.
SYNCED_SPACES_KEPT = 5
MAX_SPACE_NAME = 100
WIPE_PENDING = "wipe_pending"
WIPED = "wiped"


@dataclass(frozen=True)
class IssuedToken:
    id: uuid.UUID
    secret: str


@dataclass(frozen=True)
class DeviceTokenView:
    id: uuid.UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


class DeviceTokenService:
    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        clock: Clock,
        randomness: Randomness,
        *,
        idle_days: int = DEFAULT_IDLE_DAYS,
        mail: DeviceMail | None = None,
        verified: VerifiedCredentials[tuple[Actor, uuid.UUID]] | None = None,
    ) -> None:
        self._database = database
        self._verified = verified
        self._audit = audit
        self._clock = clock
        self._randomness = randomness
        self._idle_days = idle_days
        self._mail = mail

    @property
    def idle_lifetime(self) -> timedelta:
        return timedelta(days=self._idle_days)

    def require_may_issue(self, actor: Actor) -> None:
        """Refuse before a login goes further when no token could be issued at its end."""
        with self._database.transaction() as session:
            _issuable(session, actor)

    def issue(self, actor: Actor, *, device_name: str, client: ClientInfo) -> IssuedToken:
        name = clean_label(
            device_name or "API client", what="Device name", field="device_name", limit=100
        )
        secret = new_secret(self._randomness, prefix=TOKEN_PREFIX)
        with self._database.transaction() as session:
            _issuable(session, actor)
            token_id = self.add(
                session,
                actor,
                secret=secret,
                name=name,
                kind="sync",
                client=client,
                event=AuditEventType.DEVICE_TOKEN_ISSUED,
            )
        self.notify_new_device(actor.user_id, name=name, app_password=False, client=client)
        return IssuedToken(id=token_id, secret=secret)

    def add(
        self,
        session: Session,
        actor: Actor,
        *,
        secret: str,
        name: str,
        kind: str,
        client: ClientInfo,
        event: AuditEventType,
    ) -> uuid.UUID:
        """Store a new credential of any kind by its digest, and audit it: the one way a device
        token (sync client, script, app password) comes to exist."""
        token_id = uuid.uuid4()
        session.add(
            DeviceToken(
                id=token_id,
                token_hash=digest(secret),
                user_id=actor.user_id,
                organization_id=actor.organization_id,
                name=name,
                kind=kind,
                created_at=self._clock.now(),
                client_address=(client.address or "")[:64] or None,
                user_agent=(client.user_agent or "")[:255] or None,
            )
        )
        self._audit.record(
            session,
            event,
            organization_id=actor.organization_id,
            client=client,
            actor=actor,
            target_user_id=actor.user_id,
            target_email=actor.email,
            device=name,
            token_id=str(token_id),
        )
        return token_id

    def notify_new_device(
        self, user_id: uuid.UUID, *, name: str, app_password: bool, client: ClientInfo
    ) -> None:
        """Email the user that a new device can reach their files (after the commit)."""
        if self._mail is not None:
            self._mail.new_device(
                user_id,
                device_name=name,
                app_password=app_password,
                address=client.address,
                user_agent=client.user_agent,
            )

    def resolve(
        self, secret: str, *, client: ClientInfo | None = None, space: str | None = None
    ) -> tuple[Actor, uuid.UUID]:
        """The actor a bearer token stands for, and the token's id. `client` and `space` (the
        space a sync client keeps in sync) are recorded for the Devices page."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            raise NotAuthenticated(N_("The access token is not valid."))
        token_hash = digest(secret)
        if self._verified is None:
            return self.resolve_stored(
                DeviceToken.token_hash == token_hash, client=client, space=space
            )
        generation = self._verified.generation
        found = self._verified.get(_remembered_as(token_hash, client, space))
        if found is not None:
            return found
        resolved = self.resolve_stored(
            DeviceToken.token_hash == token_hash, client=client, space=space
        )
        self._verified.remember(_remembered_as(token_hash, client, space), resolved, generation)
        return resolved

    def remembered(
        self, secret: str, *, client: ClientInfo | None = None, space: str | None = None
    ) -> tuple[Actor, uuid.UUID] | None:
        """What `resolve` answered for this token moments ago, without a query (None when it
        must be checked): cheap enough for an event loop."""
        if self._verified is None or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        return self._verified.get(_remembered_as(digest(secret), client, space))

    def require_live(self, token_id: uuid.UUID) -> Actor:
        """The actor of a token already resolved once, as `resolve` would answer now: raises
        NotAuthenticated (revoked, expired, account disabled) or DeviceWiped."""
        return self.resolve_stored(DeviceToken.id == token_id)[0]

    def resolve_stored(
        self,
        which: ColumnElement[bool],
        *,
        client: ClientInfo | None = None,
        space: str | None = None,
    ) -> tuple[Actor, uuid.UUID]:
        """As `resolve`, for the stored credential `which` selects (an app password, found by
        its owner and digest): every rule of device tokens applies to every kind."""
        now = self._clock.now()
        with self._database.transaction() as session:
            token = session.scalars(select(DeviceToken).where(which)).one_or_none()
            if token is None:
                raise NotAuthenticated(N_("The access token is not valid or was revoked."))
            if token.wipe_state is not None:
                # Before anything else: the client learns it must erase, whatever else holds.
                raise DeviceWiped()
            idle = now - (token.last_used_at or token.created_at) > self.idle_lifetime
            if token.revoked_at is not None and not idle:
                raise NotAuthenticated(N_("The access token is not valid or was revoked."))
            user = session.get(User, token.user_id)
            assert user is not None  # tokens are deleted with their user
            if idle:
                if token.revoked_at is not None:  # said so before: say it again
                    raise NotAuthenticated(self._idle_message)
                token.revoked_at = now
                self._audit.record(
                    session,
                    AuditEventType.DEVICE_TOKEN_EXPIRED,
                    organization_id=user.organization_id,
                    client=ClientInfo(),
                    target_user_id=user.id,
                    target_email=user.email,
                    device=token.name,
                    token_id=str(token.id),
                    idle_days=self._idle_days,
                )
            else:
                try:
                    require_may_log_in(user)
                except AccountUnavailable as exc:
                    raise NotAuthenticated(exc.message) from None
                require_password_current(user)
                if token.last_used_at is None or now - token.last_used_at > _TOUCH_INTERVAL:
                    token.last_used_at = now
                _note_software(token, client, space)
                return actor_of(user), token.id
        # Raised once the expiry is committed, so the token is revoked and audited.
        raise NotAuthenticated(self._idle_message)

    @property
    def _idle_message(self) -> str:
        return f"This device has not been used for {self._idle_days} days; log in again."

    def list_own(self, actor: Actor) -> list[DeviceTokenView]:
        query = (
            select(DeviceToken)
            .where(
                DeviceToken.user_id == actor.user_id,
                live_tokens(self._clock.now(), self.idle_lifetime),
            )
            .order_by(DeviceToken.created_at)
        )
        with self._database.transaction() as session:
            return [
                DeviceTokenView(
                    id=row.id,
                    name=row.name,
                    created_at=row.created_at,
                    last_used_at=row.last_used_at,
                    revoked=row.revoked_at is not None,
                )
                for row in session.scalars(query)
            ]

    def revoke(self, actor: Actor, token_id: uuid.UUID, *, client: ClientInfo) -> None:
        """Users revoke their own devices (an admin's reach comes with account administration)."""
        with self._database.transaction() as session:
            token = session.get(DeviceToken, token_id)
            if token is None or token.user_id != actor.user_id:
                raise NotFound(N_("No such device."))
            if token.revoked_at is not None:
                raise InvalidInput(N_("This device was already signed out."))
            token.revoked_at = self._clock.now()
            self._audit.record(
                session,
                AuditEventType.DEVICE_TOKEN_REVOKED,
                organization_id=actor.organization_id,
                client=client,
                actor=actor,
                target_user_id=actor.user_id,
                target_email=actor.email,
                device=token.name,
                token_id=str(token.id),
            )


def live_tokens(now: datetime, idle_lifetime: timedelta) -> ColumnElement[bool]:
    """Tokens that still work: not revoked, and used (or issued) within the idle period."""
    return and_(
        DeviceToken.revoked_at.is_(None),
        func.coalesce(DeviceToken.last_used_at, DeviceToken.created_at) >= now - idle_lifetime,
    )


def _issuable(session: Session, actor: Actor) -> None:
    """Refuse unless the account may hold a new token now (not while a password change is due)."""
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotAuthenticated()
    require_may_log_in(user)
    require_password_current(user)


def _remembered_as(
    token_hash: str, client: ClientInfo | None, space: str | None
) -> tuple[str, ClientInfo | None, str | None]:
    # What the device says about itself is part of the key, so that a change of it is noted.
    return (token_hash, client, space)


def _note_software(token: DeviceToken, client: ClientInfo | None, space: str | None) -> None:
    """Keep what the device last said about itself (written only when it changed)."""
    user_agent = ((client.user_agent if client else None) or "")[:255] or None
    if user_agent is not None and user_agent != token.user_agent:
        token.user_agent = user_agent
    address = ((client.address if client else None) or "")[:64] or None
    # An app password's address is kept by `AppPasswordService.use`, which audits a new one.
    if address is not None and token.kind == "sync" and address != token.last_used_address:
        token.last_used_address = address
    name = (space or "").strip()[:MAX_SPACE_NAME]
    if not name or not name.isprintable():
        return
    known = synced_spaces_of(token)
    if name not in known:
        token.synced_spaces = "\n".join([name, *known][:SYNCED_SPACES_KEPT])


def synced_spaces_of(token: DeviceToken) -> list[str]:
    return [name for name in (token.synced_spaces or "").split("\n") if name]
