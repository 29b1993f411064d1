"""Rules shared by account administration, invitations and My account.

Who may administer whom, the last-Organization-Admin guard, the password-pair check, and
ending every way a user is signed in. Each helper runs inside the caller's unit of work.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from sfs.auth.password_policy import check_password
from sfs.domain.actor import Actor
from sfs.domain.errors import InvalidInput, NotFound, PermissionDenied
from sfs.domain.roles import Role, UserStatus
from sfs.i18n import N_
from sfs.metadata.models import AccountToken, Organization, User, WebSession
from sfs.services.identity.accounts import visible_user

SECOND_FACTOR_LABELS = {"totp": "Authenticator mobile app", "email": "Email"}
NO_SECOND_FACTOR = "Not set up"


def second_factor_label(method: str | None) -> str:
    return SECOND_FACTOR_LABELS.get(method or "", NO_SECOND_FACTOR)


def require_administrator(actor: Actor) -> None:
    """Users get PermissionDenied for every administration call, even about themselves."""
    if not (actor.is_org_admin or actor.is_provider_admin):
        raise PermissionDenied(N_("Only Organization Admins may administer accounts."))


def administered_user(session: Session, actor: Actor, user_id: uuid.UUID) -> User:
    """A user the actor administers; another organisation's user is NotFound, like a bad id."""
    require_administrator(actor)
    row = visible_user(session, actor, user_id)
    if row.organization_id is None:
        # Provider admins are administered from the command line, not from an Accounts list.
        raise NotFound(N_("No such account."))
    return row


def refuse_self(actor: Actor, row: User, what: str) -> None:
    if row.id == actor.user_id:
        raise PermissionDenied(
            N_("You cannot %(what)s your own account here; use My account.", what=what)
        )


def lock_organisation(session: Session, organization_id: uuid.UUID | None) -> None:
    """Serialise changes to an organisation's administrators (PostgreSQL row lock).

    SQLite takes a database-wide write lock anyway; FOR UPDATE is omitted there.
    """
    if organization_id is None:
        return
    session.scalars(
        select(Organization.id).where(Organization.id == organization_id).with_for_update()
    ).one()


def refuse_losing_last_admin(session: Session, row: User, what: str) -> None:
    """Raise when `row` is the organisation's only active Organization Admin.

    Call after `lock_organisation`, before demoting, disabling or deleting `row`.
    """
    if row.role != Role.ORG_ADMIN.value or row.status != UserStatus.ACTIVE.value:
        return
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(
            User.organization_id == row.organization_id,
            User.role == Role.ORG_ADMIN.value,
            User.status == UserStatus.ACTIVE.value,
            User.id != row.id,
        )
    )
    if not others:
        raise PermissionDenied(
            N_(
                (
                    "You cannot %(what)s the last active Organization Admin of the "
                    "organisation. Make another account an Organization Admin first."
                ),
                what=what,
            )
        )


def check_new_password(
    password: str,
    confirmation: str,
    *,
    email: str,
    display_name: str,
    min_length: int,
    for_someone_else: bool = False,
) -> None:
    """The new password typed twice: it must match, then meet the policy."""
    if password != confirmation:
        raise InvalidInput(
            N_("The new password and its confirmation do not match."), field="confirm_password"
        )
    check_password(
        password,
        email=email,
        display_name=display_name,
        min_length=min_length,
        for_someone_else=for_someone_else,
    )


def min_password_length(session: Session, row: User) -> int:
    organisation = session.get(Organization, row.organization_id) if row.organization_id else None
    return organisation.min_password_length if organisation else 0


def end_web_sessions(session: Session, user_id: uuid.UUID) -> None:
    """Sign the user out of every browser (API devices keep working)."""
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def close_account_tokens(
    session: Session, user_id: uuid.UUID, now: datetime, *, purpose: str | None = None
) -> None:
    """Make the user's unused emailed links (of one purpose, or all) stop working."""
    statement = (
        update(AccountToken)
        .where(AccountToken.user_id == user_id, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    if purpose is not None:
        statement = statement.where(AccountToken.purpose == purpose)
    session.execute(statement)
