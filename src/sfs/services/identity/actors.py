"""Turning a stored account into the Actor that service calls run as, and the rules checked on
every request, whatever the door: a browser session, a device token, a login."""

from __future__ import annotations

from sfs.domain.actor import Actor
from sfs.domain.errors import AccountUnavailable, PasswordChangeRequired
from sfs.domain.roles import Role, UserStatus
from sfs.i18n import N_
from sfs.metadata.models import User


def actor_of(row: User) -> Actor:
    return Actor(
        user_id=row.id,
        email=row.email,
        display_name=row.display_name,
        role=Role(row.role),
        organization_id=row.organization_id,
    )


def require_may_log_in(row: User) -> None:
    """Checked at login and on every request, so disabling takes effect at once."""
    if row.status != UserStatus.ACTIVE.value:
        raise AccountUnavailable(
            N_("This account is not active. Contact your organisation's administrator.")
        )
    if row.organization is not None and row.organization.status != "active":
        raise AccountUnavailable(
            N_("Your organisation's access is suspended. Contact your service provider.")
        )


def require_password_current(row: User) -> None:
    """A temporary password set by an administrator opens one door only: changing it."""
    if row.must_change_password:
        raise PasswordChangeRequired()


def second_factor_due(row: User) -> bool:
    """The organisation requires a second factor and this account has none (yet, or any more)."""
    required = row.organization is not None and row.organization.require_second_factor
    return required and row.second_factor_method is None
