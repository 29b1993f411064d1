"""The Devices page: every way a user is signed in, and what they (or their administrator) do
about each.

Sync clients and app passwords (rows of `device_tokens`) and browser sessions, each with what
its User-Agent says (client, version, platform), when it was first and last seen and from
where. One can be revoked or, for a device, wiped (`request_wipe`: the token is dead at once and
answers only the wipe check and confirmation, see `device_wipe`); "sign out everywhere" ends
every browser but the one asking and revokes every device.

The owner acts on their own devices; an Organization Admin on those of an account they
administer (another organisation's account, or device, is NotFound like one that does not
exist).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from sfs.auth.secrets import digest
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import InvalidInput, NotFound
from sfs.domain.user_agents import describe
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.models import DeviceToken, User, WebSession
from sfs.ports import Clock
from sfs.services.audit import AuditLog
from sfs.services.identity.account_rules import administered_user
from sfs.services.identity.app_passwords import APP_PASSWORD
from sfs.services.identity.credentials import revoke_device_tokens
from sfs.services.identity.device_tokens import (
    DEFAULT_IDLE_DAYS,
    WIPE_PENDING,
    live_tokens,
    synced_spaces_of,
)
from sfs.services.identity.web_sessions import browser_handle, session_timeouts

SYNC = "sync"
BROWSER = "browser"


@dataclass(frozen=True)
class DeviceView:
    """A sync client or an app password."""

    id: uuid.UUID
    name: str
    kind: str  # 'sync' | 'app_password'
    client: str | None
    version: str | None
    platform: str | None
    first_seen: datetime
    last_seen: datetime | None
    last_address: str | None
    synced_spaces: list[str]
    wipe_state: str | None  # None, 'wipe_pending' or 'wiped'
    wipe_requested_at: datetime | None
    wiped_at: datetime | None

    @property
    def working(self) -> bool:
        return self.wipe_state is None


@dataclass(frozen=True)
class BrowserView:
    handle: str  # names the session on the page without revealing its stored key
    client: str | None
    version: str | None
    platform: str | None
    first_seen: datetime
    last_seen: datetime
    last_address: str | None
    is_current: bool  # the browser asking: "this browser"


@dataclass(frozen=True)
class DeviceList:
    user_id: uuid.UUID
    display_name: str
    email: str
    browsers: list[BrowserView]
    devices: list[DeviceView]


class DeviceService:
    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        clock: Clock,
        *,
        idle_days: int = DEFAULT_IDLE_DAYS,
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._idle = timedelta(days=idle_days)

    def listing(
        self,
        actor: Actor,
        *,
        user_id: uuid.UUID | None = None,
        current_session_cookie: str | None = None,
    ) -> DeviceList:
        """The user's browsers (most recent first) and devices (oldest first); devices being
        wiped or wiped stay listed, so a wipe that never completes stays in sight."""
        current = digest(current_session_cookie) if current_session_cookie else None
        now = self._clock.now()
        with self._database.transaction() as session:
            owner = _owner(session, actor, user_id)
            idle, absolute = session_timeouts(owner)
            browsers = [
                _browser_view(row, is_current=row.id_hash == current)
                for row in session.scalars(
                    select(WebSession)
                    .where(WebSession.user_id == owner.id, WebSession.stage == "active")
                    .order_by(WebSession.last_seen_at.desc())
                )
                if now - row.last_seen_at <= idle and now - row.created_at <= absolute
            ]
            devices = [
                _device_view(row)
                for row in session.scalars(
                    select(DeviceToken)
                    .where(
                        DeviceToken.user_id == owner.id,
                        or_(
                            live_tokens(now, self._idle),
                            DeviceToken.wipe_state.is_not(None),
                        ),
                    )
                    .order_by(DeviceToken.created_at, DeviceToken.id)
                )
            ]
            return DeviceList(owner.id, owner.display_name, owner.email, browsers, devices)

    def revoke(
        self,
        actor: Actor,
        device_id: uuid.UUID,
        *,
        client: ClientInfo,
        user_id: uuid.UUID | None = None,
    ) -> None:
        """Sign one device out: its token stops working at once."""
        with self._database.transaction() as session:
            owner = _owner(session, actor, user_id)
            token = _device_of(session, owner, device_id)
            if token.revoked_at is not None:
                raise InvalidInput(N_("This device was already signed out."))
            token.revoked_at = self._clock.now()
            self._audit.record(
                session,
                AuditEventType.APP_PASSWORD_REVOKED
                if token.kind == APP_PASSWORD
                else AuditEventType.DEVICE_TOKEN_REVOKED,
                organization_id=owner.organization_id,
                client=client,
                actor=actor,
                target_user_id=owner.id,
                target_email=owner.email,
                device=token.name,
                token_id=str(token.id),
            )

    def request_wipe(
        self,
        actor: Actor,
        device_id: uuid.UUID,
        *,
        client: ClientInfo,
        user_id: uuid.UUID | None = None,
    ) -> None:
        """Revoke the device now and have it erase what it synced at its next contact.

        A device already signed out can still be wiped: a stolen laptop may come back online
        long after someone revoked it."""
        now = self._clock.now()
        with self._database.transaction() as session:
            owner = _owner(session, actor, user_id)
            token = _device_of(session, owner, device_id)
            if token.wipe_state is not None:
                raise InvalidInput(N_("A wipe of this device was already requested."))
            mark_for_wipe(session, token, now=now, requested_by=actor.user_id)
            self._audit.record(
                session,
                AuditEventType.DEVICE_WIPE_REQUESTED,
                organization_id=owner.organization_id,
                client=client,
                actor=actor,
                target_user_id=owner.id,
                target_email=owner.email,
                device=token.name,
                token_id=str(token.id),
                kind=token.kind,
            )

    def end_browser(
        self,
        actor: Actor,
        handle: str,
        *,
        client: ClientInfo,
        user_id: uuid.UUID | None = None,
        current_session_cookie: str | None = None,
    ) -> None:
        """End a browser session left open elsewhere (never the one asking: that is Log out)."""
        current = digest(current_session_cookie) if current_session_cookie else None
        with self._database.transaction() as session:
            owner = _owner(session, actor, user_id)
            rows = session.scalars(select(WebSession).where(WebSession.user_id == owner.id))
            row = next((r for r in rows if browser_handle(r.id_hash) == handle), None)
            if row is None:
                raise NotFound(N_("No such session."))
            if row.id_hash == current:
                raise InvalidInput(N_("This is the browser you are using: use Log out to end it."))
            session.delete(row)
            self._audit.record(
                session,
                AuditEventType.SESSION_REVOKED,
                organization_id=owner.organization_id,
                client=client,
                actor=actor,
                target_user_id=owner.id,
                target_email=owner.email,
            )

    def sign_out_everywhere(
        self,
        actor: Actor,
        *,
        client: ClientInfo,
        user_id: uuid.UUID | None = None,
        current_session_cookie: str | None = None,
    ) -> tuple[int, int]:
        """End every browser session but the asking one and revoke every device; returns how
        many of each."""
        keep = digest(current_session_cookie) if current_session_cookie else None
        now = self._clock.now()
        with self._database.transaction() as session:
            owner = _owner(session, actor, user_id)
            browsers = delete(WebSession).where(WebSession.user_id == owner.id)
            if keep is not None:
                browsers = browsers.where(WebSession.id_hash != keep)
            ended = int(session.execute(browsers).rowcount or 0)  # type: ignore[attr-defined]
            revoked = revoke_device_tokens(
                session,
                self._audit,
                DeviceToken.user_id == owner.id,
                now=now,
                client=client,
                actor=actor,
                reason="signed_out_everywhere",
            )
            self._audit.record(
                session,
                AuditEventType.SIGNED_OUT_EVERYWHERE,
                organization_id=owner.organization_id,
                client=client,
                actor=actor,
                target_user_id=owner.id,
                target_email=owner.email,
                browsers=ended,
                devices=revoked,
            )
        return ended, revoked


def mark_for_wipe(
    session: Session, token: DeviceToken, *, now: datetime, requested_by: uuid.UUID
) -> None:
    """The token is dead for every purpose but the wipe check and its confirmation."""
    token.revoked_at = token.revoked_at or now
    token.wipe_state = WIPE_PENDING
    token.wipe_requested_at = now
    token.wipe_requested_by = requested_by


def _owner(session: Session, actor: Actor, user_id: uuid.UUID | None) -> User:
    if user_id is None or user_id == actor.user_id:
        user = session.get(User, actor.user_id)
        if user is None:
            raise NotFound(N_("No such account."))
        return user
    return administered_user(session, actor, user_id)


def _device_of(session: Session, owner: User, device_id: uuid.UUID) -> DeviceToken:
    token = session.get(DeviceToken, device_id)
    if token is None or token.user_id != owner.id:
        raise NotFound(N_("No such device."))
    return token


def _device_view(row: DeviceToken) -> DeviceView:
    software = describe(row.user_agent)
    return DeviceView(
        id=row.id,
        name=row.name,
        kind=row.kind,
        client=software.client,
        version=software.version,
        platform=software.platform,
        first_seen=row.created_at,
        last_seen=row.last_used_at,
        last_address=row.last_used_address or row.client_address,
        synced_spaces=synced_spaces_of(row),
        wipe_state=row.wipe_state,
        wipe_requested_at=row.wipe_requested_at,
        wiped_at=row.wiped_at,
    )


def _browser_view(row: WebSession, *, is_current: bool) -> BrowserView:
    software = describe(row.user_agent)
    return BrowserView(
        handle=browser_handle(row.id_hash),
        client=software.client,
        version=software.version,
        platform=software.platform,
        first_seen=row.created_at,
        last_seen=row.last_seen_at,
        last_address=row.client_address,
        is_current=is_current,
    )
