"""Who may do what, by role."""

from __future__ import annotations

from enum import StrEnum

from sfs.i18n import N_


class Role(StrEnum):
    PROVIDER_ADMIN = "provider_admin"
    ORG_ADMIN = "org_admin"
    USER = "user"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @property
    def label(self) -> str:
        return _LABELS[self]


_RANKS = {Role.USER: 0, Role.ORG_ADMIN: 1, Role.PROVIDER_ADMIN: 2}
_LABELS = {
    Role.USER: N_("User"),
    Role.ORG_ADMIN: N_("Organization Admin"),
    Role.PROVIDER_ADMIN: N_("Provider Admin"),
}

ORGANISATION_ROLES = (Role.ORG_ADMIN, Role.USER)


class UserStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    INVITED = "invited"
