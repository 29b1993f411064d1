"""The authenticated party on whose behalf a service call runs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sfs.domain.roles import Role


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: uuid.UUID
    email: str
    display_name: str
    role: Role
    organization_id: uuid.UUID | None  # None only for provider admins

    @property
    def is_provider_admin(self) -> bool:
        return self.role is Role.PROVIDER_ADMIN

    @property
    def is_org_admin(self) -> bool:
        return self.role is Role.ORG_ADMIN


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Where a request came from, for throttling and the audit log."""

    address: str | None = None
    user_agent: str | None = None

    @classmethod
    def command_line(cls) -> ClientInfo:
        return cls(address="local", user_agent="sfs-cli")


OPERATOR_USER_ID = uuid.UUID(int=0)


def operator() -> Actor:
    """Whoever runs `sfs admin` on the server: trusted like a provider admin, with no account."""
    return Actor(
        user_id=OPERATOR_USER_ID,
        email="operator (command line)",
        display_name="Operator",
        role=Role.PROVIDER_ADMIN,
        organization_id=None,
    )
