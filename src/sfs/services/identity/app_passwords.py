"""App passwords: one credential per device for WebDAV and Nextcloud clients.

A client such as Finder, Windows, rclone or a Nextcloud app sends an email and a password on
every request (HTTP Basic). It gets an app password of its own, never the account password:
shown once, stored as a digest, listed with its last use, revocable on its own.

App passwords are rows of the device-token table (`kind` 'app_password'), so whatever ends a
sync client's token ends them too: revocation, idle expiry, a disabled account, a password
reset, a second-factor reset. Their secret is 25 characters from an alphabet without look-alike
characters (about 124 bits), grouped in fives so a person can type it into a phone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from sfs.auth.secrets import digest
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import InvalidInput, NotAuthenticated, NotFound
from sfs.domain.validation import clean_label
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.models import DeviceToken
from sfs.ports import Clock, Randomness
from sfs.services.audit import AuditLog
from sfs.services.identity.device_tokens import DeviceTokenService, live_tokens

APP_PASSWORD = "app_password"  # noqa: S105 (a kind of credential, not a secret)
SYNC = "sync"
# No 0/o, 1/l/i: read off a screen and typed on a phone without doubt.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GROUPS = 5
GROUP_LENGTH = 5
MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class CreatedAppPassword:
    id: uuid.UUID
    name: str
    secret: str  # shown once, e.g. "k7mzq-3hbte-wr9ga-pxn4d-cu2vj"


@dataclass(frozen=True)
class DeviceCredential:
    """A device credential as its owner sees it on "Devices and app passwords"."""

    id: uuid.UUID
    name: str
    kind: str
    created_at: datetime
    last_used_at: datetime | None
    last_used_address: str | None


def canonical_app_password(typed: str) -> str | None:
    """The app password a person or client typed, in the form stored; None when it cannot be
    one (so an account password is never looked up as an app password needlessly)."""
    if len(typed) > 64:
        return None
    letters = "".join(ch for ch in typed.casefold() if ch not in "- ")
    if len(letters) != GROUPS * GROUP_LENGTH or any(ch not in ALPHABET for ch in letters):
        return None
    return "-".join(
        letters[start : start + GROUP_LENGTH] for start in range(0, len(letters), GROUP_LENGTH)
    )


class AppPasswordService:
    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        clock: Clock,
        randomness: Randomness,
        device_tokens: DeviceTokenService,
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._randomness = randomness
        self._device_tokens = device_tokens

    def create(self, actor: Actor, *, name: str, client: ClientInfo) -> CreatedAppPassword:
        if actor.organization_id is None:
            raise InvalidInput(N_("Provider administrators have no files to reach with a device."))
        clean = clean_label(name, what="Device name", field="name", limit=MAX_NAME_LENGTH)
        self._device_tokens.require_may_issue(actor)
        letters = "".join(self._randomness.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
        secret = canonical_app_password(letters)
        assert secret is not None
        with self._database.transaction() as session:
            token_id = self._device_tokens.add(
                session,
                actor,
                secret=secret,
                name=clean,
                kind=APP_PASSWORD,
                client=client,
                event=AuditEventType.APP_PASSWORD_CREATED,
            )
        self._device_tokens.notify_new_device(
            actor.user_id, name=clean, app_password=True, client=client
        )
        return CreatedAppPassword(id=token_id, name=clean, secret=secret)

    def devices(self, actor: Actor) -> list[DeviceCredential]:
        """The actor's working device credentials of both kinds, oldest first."""
        query = (
            select(DeviceToken)
            .where(
                DeviceToken.user_id == actor.user_id,
                live_tokens(self._clock.now(), self._device_tokens.idle_lifetime),
            )
            .order_by(DeviceToken.created_at, DeviceToken.id)
        )
        with self._database.transaction() as session:
            return [
                DeviceCredential(
                    id=row.id,
                    name=row.name,
                    kind=row.kind,
                    created_at=row.created_at,
                    last_used_at=row.last_used_at,
                    last_used_address=row.last_used_address or row.client_address,
                )
                for row in session.scalars(query)
            ]

    def revoke(self, actor: Actor, token_id: uuid.UUID, *, client: ClientInfo) -> None:
        """Revoke one of the actor's own device credentials, whichever its kind."""
        with self._database.transaction() as session:
            token = session.get(DeviceToken, token_id)
            if token is None or token.user_id != actor.user_id:
                raise NotFound(N_("No such device."))
            kind = token.kind
        if kind != APP_PASSWORD:
            self._device_tokens.revoke(actor, token_id, client=client)
            return
        with self._database.transaction() as session:
            token = session.get(DeviceToken, token_id)
            assert token is not None
            if token.revoked_at is not None:
                raise InvalidInput(N_("This device was already signed out."))
            token.revoked_at = self._clock.now()
            self._audit.record(
                session,
                AuditEventType.APP_PASSWORD_REVOKED,
                organization_id=actor.organization_id,
                client=client,
                actor=actor,
                target_user_id=actor.user_id,
                target_email=actor.email,
                device=token.name,
                token_id=str(token.id),
            )

    def find(self, user_id: uuid.UUID, secret: str) -> uuid.UUID | None:
        """The id of the user's unrevoked app password with this secret (canonical form)."""
        with self._database.transaction() as session:
            return session.scalars(
                select(DeviceToken.id).where(
                    DeviceToken.token_hash == digest(secret),
                    DeviceToken.user_id == user_id,
                    DeviceToken.kind == APP_PASSWORD,
                    DeviceToken.revoked_at.is_(None),
                )
            ).one_or_none()

    def use(self, token_id: uuid.UUID, *, client: ClientInfo) -> Actor:
        """Admit a found app password under every rule of device tokens (NotAuthenticated with
        the reason otherwise); a use from another address than the last is audited."""
        actor, _ = self._device_tokens.resolve_stored(DeviceToken.id == token_id, client=client)
        address = (client.address or "")[:64] or None
        with self._database.transaction() as session:
            token = session.get(DeviceToken, token_id)
            if token is None:  # deleted with its account in between
                raise NotAuthenticated()
            if address is None or address == (token.last_used_address or token.client_address):
                token.last_used_address = token.last_used_address or address
                return actor
            token.last_used_address = address
            self._audit.record(
                session,
                AuditEventType.APP_PASSWORD_USED_FROM_NEW_ADDRESS,
                organization_id=token.organization_id,
                client=client,
                actor=actor,
                target_user_id=actor.user_id,
                target_email=actor.email,
                device=token.name,
                token_id=str(token.id),
            )
            return actor
