"""Adding a user by invitation: an account without a password and a single-use emailed link.

The link is valid for 7 days; only a SHA-256 digest of its secret is stored. Following it, the
new user chooses a password (typed twice), which activates the account.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sfs.auth.secrets import digest, new_secret
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import (
    AlreadyExists,
    InvalidInput,
    InvalidLink,
    NotFound,
    PermissionDenied,
)
from sfs.domain.roles import ORGANISATION_ROLES, Role, UserStatus
from sfs.domain.validation import clean_display_name, normalize_email
from sfs.i18n import N_, translator
from sfs.metadata.db import Database
from sfs.metadata.models import AccountToken, Organization, User
from sfs.ports import Clock, Randomness
from sfs.services.audit import AuditLog
from sfs.services.identity.account_rules import (
    administered_user,
    check_new_password,
    close_account_tokens,
    require_administrator,
)
from sfs.services.notifications import Notifier

INVITATION = "invitation"
INVITATION_VALIDITY = timedelta(days=7)
_MAX_TOKEN_LENGTH = 200
_INVALID = (
    "This invitation link is not valid: it is unknown, was already used, or has expired. "
    "Ask your administrator to send a new invitation."
)


@dataclass(frozen=True)
class Invitation:
    """What the invitation page shows before the password is chosen."""

    email: str
    display_name: str
    organization_name: str
    min_password_length: int


@dataclass(frozen=True)
class InvitedUser:
    id: uuid.UUID
    email: str


class InvitationService:
    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        clock: Clock,
        randomness: Randomness,
        hasher: PasswordHasher,
        notifier: Notifier,
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._randomness = randomness
        self._hasher = hasher
        self._notifier = notifier

    def invite(
        self,
        actor: Actor,
        *,
        email: str,
        display_name: str,
        role: Role,
        client: ClientInfo,
        organization_id: uuid.UUID | None = None,
    ) -> InvitedUser:
        """Create an invited account in the actor's organisation and email it a link."""
        require_administrator(actor)
        if role.rank > actor.role.rank:
            raise PermissionDenied(N_("You cannot give anyone a role above your own."))
        if role not in ORGANISATION_ROLES:
            raise InvalidInput(N_("Role must be Organization Admin or User."), field="role")
        organization_id = organization_id or actor.organization_id
        if organization_id is None:
            raise InvalidInput(N_("Choose an organisation."), field="organization_id")
        clean_email = normalize_email(email)
        clean_name = clean_display_name(display_name)
        secret = new_secret(self._randomness)
        now = self._clock.now()
        try:
            with self._database.transaction() as session:
                organisation = session.get(Organization, organization_id)
                if organisation is None or not (
                    actor.is_provider_admin or actor.organization_id == organization_id
                ):
                    raise NotFound(N_("No such organisation."))
                taken = session.scalars(select(User.id).where(User.email == clean_email)).first()
                if taken is not None:
                    raise _email_taken()
                row = User(
                    id=uuid.uuid4(),
                    organization_id=organization_id,
                    email=clean_email,
                    display_name=clean_name,
                    role=role.value,
                    status=UserStatus.INVITED.value,
                    password_hash=None,
                    created_at=now,
                )
                session.add(row)
                session.flush()
                self._add_token(session, row, secret)
                self._audit.record(
                    session,
                    AuditEventType.USER_INVITED,
                    organization_id=organization_id,
                    client=client,
                    actor=actor,
                    target_user_id=row.id,
                    target_email=clean_email,
                    role=role.value,
                )
                organisation_name = organisation.name
                invited = InvitedUser(id=row.id, email=clean_email)
        except IntegrityError:
            # Another request registered the same email between our check and the insert.
            raise _email_taken() from None
        self._send(actor, clean_email, clean_name, organisation_name, secret)
        return invited

    def resend(self, actor: Actor, user_id: uuid.UUID, *, client: ClientInfo) -> None:
        """A fresh link for an account still invited; earlier links stop working."""
        secret = new_secret(self._randomness)
        with self._database.transaction() as session:
            row = administered_user(session, actor, user_id)
            if row.status != UserStatus.INVITED.value:
                raise InvalidInput(N_("This account is not waiting for an invitation."))
            close_account_tokens(session, row.id, self._clock.now(), purpose=INVITATION)
            self._add_token(session, row, secret)
            self._audit.record(
                session,
                AuditEventType.USER_INVITED,
                organization_id=row.organization_id,
                client=client,
                actor=actor,
                target_user_id=row.id,
                target_email=row.email,
                role=row.role,
                resent=True,
            )
            assert row.organization is not None
            email, name, organisation_name = row.email, row.display_name, row.organization.name
        self._send(actor, email, name, organisation_name, secret)

    def look_up(self, token: str) -> Invitation:
        """The invitation a link stands for, or InvalidLink; changes nothing."""
        with self._database.transaction() as session:
            _link, user = self._valid(session, token)
            assert user.organization is not None
            return Invitation(
                email=user.email,
                display_name=user.display_name,
                organization_name=user.organization.name,
                min_password_length=user.organization.min_password_length,
            )

    def accept(
        self, token: str, *, new_password: str, confirm_password: str, client: ClientInfo
    ) -> str:
        """Set the password and activate the account; returns the email to log in with."""
        with self._database.transaction() as session:
            _link, user = self._valid(session, token)
            assert user.organization is not None
            email, name = user.email, user.display_name
            min_length = user.organization.min_password_length
        check_new_password(
            new_password, confirm_password, email=email, display_name=name, min_length=min_length
        )
        password_hash = self._hasher.hash(new_password)  # slow: kept outside the transaction
        now = self._clock.now()
        with self._database.transaction() as session:
            link, user = self._valid(session, token)
            # Claim the link; a concurrent acceptance that claimed it first makes this fail.
            claimed = session.execute(
                update(AccountToken)
                .where(AccountToken.id == link.id, AccountToken.used_at.is_(None))
                .values(used_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise InvalidLink(_INVALID)
            user.password_hash = password_hash
            user.password_changed_at = now
            user.status = UserStatus.ACTIVE.value
            user.must_change_password = False
            self._audit.record(
                session,
                AuditEventType.INVITATION_ACCEPTED,
                organization_id=user.organization_id,
                client=client,
                target_user_id=user.id,
                target_email=user.email,
            )
        return email

    def _valid(self, session: Session, token: str) -> tuple[AccountToken, User]:
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            raise InvalidLink(_INVALID)
        link = session.scalars(
            select(AccountToken).where(AccountToken.token_hash == digest(token))
        ).one_or_none()
        if (
            link is None
            or link.purpose != INVITATION
            or link.used_at is not None
            or link.expires_at <= self._clock.now()
        ):
            raise InvalidLink(_INVALID)
        user = session.get(User, link.user_id)
        if user is None or user.status != UserStatus.INVITED.value:
            raise InvalidLink(_INVALID)
        return link, user

    def _add_token(self, session: Session, user: User, secret: str) -> None:
        now = self._clock.now()
        session.add(
            AccountToken(
                id=uuid.uuid4(),
                user_id=user.id,
                organization_id=user.organization_id,
                purpose=INVITATION,
                token_hash=digest(secret),
                created_at=now,
                expires_at=now + INVITATION_VALIDITY,
            )
        )

    def _send(
        self, actor: Actor, email: str, name: str, organisation_name: str, secret: str
    ) -> None:
        link = self._notifier.link(f"/invitation/{secret}")
        _ = translator(self._invitation_language(actor, email))
        self._notifier.send(
            to=email,
            subject=_("You are invited to Secure File Sync (%(organisation)s)")
            % {"organisation": organisation_name},
            body=(
                _("Hello %(name)s,") % {"name": name}
                + "\n\n"
                + _(
                    "%(admin)s (%(email)s) created a Secure File Sync account for you in "
                    "%(organisation)s. Choose your password here:"
                )
                % {
                    "admin": actor.display_name,
                    "email": actor.email,
                    "organisation": organisation_name,
                }
                + f"\n\n{link}\n\n"
                + _(
                    "The link works once and expires in 7 days. Your login name is this email "
                    "address, %(email)s."
                )
                % {"email": email}
                + "\n"
            ),
        )

    def _invitation_language(self, actor: Actor, email: str) -> str | None:
        """The invitee's language if set, else the inviting administrator's: a colleague's best
        guess (the invitee has never chosen one)."""
        with self._database.transaction() as session:
            invitee = session.scalars(select(User.language).where(User.email == email)).first()
            if invitee:
                return invitee
            inviter = session.get(User, actor.user_id) if actor.user_id else None
            return inviter.language if inviter is not None else None


def _email_taken() -> AlreadyExists:
    return AlreadyExists(N_("An account with this email address already exists."))
