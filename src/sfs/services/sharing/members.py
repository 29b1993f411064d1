"""What groups and team folders share: the organisation admin check, finding a colleague by
address without telling whether an address exists elsewhere, and name rules."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor
from sfs.domain.errors import InvalidInput, NotFound, PermissionDenied
from sfs.domain.roles import UserStatus
from sfs.domain.validation import normalize_email
from sfs.i18n import N_
from sfs.metadata.models import Organization, User

NO_COLLEAGUE = N_("No account with that address in your organisation.")


def organisation_admin(actor: Actor) -> uuid.UUID:
    """The organisation the actor administers; PermissionDenied for everyone else."""
    if not actor.is_org_admin or actor.organization_id is None:
        raise PermissionDenied(N_("Only Organization Admins may manage groups and team folders."))
    return actor.organization_id


def member_of_organisation(actor: Actor) -> uuid.UUID:
    if actor.organization_id is None:
        raise PermissionDenied(N_("Provider administrators have no files."))
    return actor.organization_id


def colleague_by_email(session: Session, organization_id: uuid.UUID, email: str) -> User:
    """An account of the organisation: the same InvalidInput for a malformed address, an unknown
    one and another organisation's, so nothing tells which."""
    try:
        key = normalize_email(email)
    except InvalidInput:
        raise InvalidInput(NO_COLLEAGUE, field="email") from None
    row = session.scalars(
        select(User).where(User.email == key, User.organization_id == organization_id)
    ).one_or_none()
    if row is None or row.status == UserStatus.DISABLED.value:
        # The same refusal for an unknown, malformed, disabled or other organisation's address
        # (nothing about who exists leaks); 422, as the group or folder named does exist.
        raise InvalidInput(NO_COLLEAGUE, field="email")
    return row


def colleague_by_id(session: Session, organization_id: uuid.UUID, user_id: uuid.UUID) -> User:
    row = session.get(User, user_id)
    if row is None or row.organization_id != organization_id:
        raise NotFound(N_("No such account."))
    return row


def lock_names(session: Session, organization_id: uuid.UUID) -> None:
    """Serialise name checks within one organisation (a row lock on PostgreSQL; SQLite locks
    the whole database for a write anyway)."""
    session.scalars(
        select(Organization.id).where(Organization.id == organization_id).with_for_update()
    ).one()
