"""Turning a stored account into the Actor that service calls run as."""

from __future__ import annotations

from sfs.domain.actor import Actor
from sfs.domain.errors import AccountUnavailable
from sfs.domain.roles import Role, UserStatus
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
            "This account is not active. Contact your organisation's administrator."
        )
    if row.organization is not None and row.organization.status != "active":
        raise AccountUnavailable(
            "Your organisation's access is suspended. Contact your service provider."
        )
