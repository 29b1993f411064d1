"""Remote wipe, the device's side: "must I erase?" and "I have erased".

A device whose wipe was requested (`DeviceService.request_wipe`) holds a revoked token that
still answers these two questions and nothing else. The native client sends its bearer token,
a Nextcloud client its app password (`POST /index.php/core/wipe/check` and `…/success` with
`token=`). The confirmation is taken once: the state moves from 'wipe_pending' to 'wiped' in one
conditional UPDATE (two instances cannot both take it), is audited, and the owner (and whoever
asked for the wipe, if someone else) are emailed. A replayed confirmation is NotFound, with no
second email. A device that never comes back stays 'wipe_pending', in sight on the Devices page.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update

from sfs.auth.secrets import digest
from sfs.auth.throttle import RateLimiters
from sfs.domain.actor import ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import NotFound, TooManyAttempts
from sfs.metadata.db import Database
from sfs.metadata.models import DeviceToken, User
from sfs.ports import Clock
from sfs.services.audit import AuditLog
from sfs.services.identity.app_passwords import canonical_app_password
from sfs.services.identity.device_mail import DeviceMail
from sfs.services.identity.device_tokens import TOKEN_PREFIX, WIPE_PENDING, WIPED

MAX_SECRET_LENGTH = 200
NO_WIPE = "No wipe is waiting for this device."
MAX_KEPT = 10**9


class DeviceWipeService:
    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        clock: Clock,
        mail: DeviceMail,
        limiters: RateLimiters,
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._mail = mail
        self._limiters = limiters

    def must_wipe(self, secret: str, *, client: ClientInfo | None = None) -> bool:
        """Whether the device holding this token or app password is to erase itself now."""
        return self.wipe_status(secret, client=client) is True

    def wipe_status(self, secret: str, *, client: ClientInfo | None = None) -> bool | None:
        """As `must_wipe`; None when the secret is no device credential at all. The doors pass
        the caller (`client`): its address is throttled."""
        self._throttle(client)
        token_hash = _stored_hash(secret)
        if token_hash is None:
            return None
        with self._database.transaction() as session:
            found = session.execute(
                select(DeviceToken.wipe_state).where(DeviceToken.token_hash == token_hash)
            ).one_or_none()
        return None if found is None else found.wipe_state == WIPE_PENDING

    def confirm(self, secret: str, *, client: ClientInfo, kept: int | None = None) -> None:
        """The device erased what it held: the wipe is done. NotFound unless a wipe was waiting
        (a token never wiped, or one whose wipe was already confirmed)."""
        self._throttle(client)
        token_hash = _stored_hash(secret)
        if token_hash is None:
            raise NotFound(NO_WIPE)
        if kept is not None and not 0 <= kept <= MAX_KEPT:
            kept = None
        now = self._clock.now()
        with self._database.transaction() as session:
            taken = session.execute(
                update(DeviceToken)
                .where(DeviceToken.token_hash == token_hash, DeviceToken.wipe_state == WIPE_PENDING)
                .values(wipe_state=WIPED, wiped_at=now)
                .returning(
                    DeviceToken.id,
                    DeviceToken.user_id,
                    DeviceToken.organization_id,
                    DeviceToken.name,
                    DeviceToken.kind,
                    DeviceToken.wipe_requested_by,
                )
            ).one_or_none()
            if taken is None:
                raise NotFound(NO_WIPE)
            owner = session.get(User, taken.user_id)
            assert owner is not None  # tokens are deleted with their user
            details: dict[str, Any] = {
                "device": taken.name,
                "token_id": str(taken.id),
                "kind": taken.kind,
            }
            if kept is not None:
                details["files_kept"] = kept
            self._audit.record(
                session,
                AuditEventType.DEVICE_WIPED,
                organization_id=taken.organization_id,
                client=client,
                target_user_id=owner.id,
                target_email=owner.email,
                **details,
            )
            owner_id: uuid.UUID = owner.id
            requested_by: uuid.UUID | None = taken.wipe_requested_by
            name: str = taken.name
        self._mail.wipe_done(owner_id, device_name=name, requested_by=requested_by, kept=kept)

    def _throttle(self, client: ClientInfo | None) -> None:
        if client is None:
            return
        limiter, key = self._limiters.wipe_address, client.address or "unknown"
        if not limiter.hit(key):
            raise TooManyAttempts(retry_after_seconds=limiter.resets_in(key))


def _stored_hash(secret: str) -> str | None:
    """The digest a device credential is stored under: a bearer token as it is, an app
    password in its canonical form; None when it can be neither."""
    secret = secret.strip()
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None
    if secret.startswith(TOKEN_PREFIX):
        return digest(secret)
    canonical = canonical_app_password(secret)
    return None if canonical is None else digest(canonical)
