"""First start: a provider admin and a demo organisation, so a fresh install can be logged into."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from sfs.domain.actor import ClientInfo, operator
from sfs.domain.errors import WeakPassword
from sfs.domain.roles import Role
from sfs.metadata.db import Database
from sfs.metadata.models import User
from sfs.ports import Randomness
from sfs.services.identity.accounts import AccountService
from sfs.services.organisations.organisations import OrganisationService

PROVIDER_ADMIN_EMAIL = "admin@sfs.example.com"
DEMO_ORGANISATION = "Demo Organisation"
DEMO_ORG_ADMIN_EMAIL = "orgadmin@demo.example.com"
# No look-alike characters (0/o, 1/l/i), so a printed password is easy to type.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class InitialCredentials:
    role: str
    email: str
    password: str
    organisation: str | None


def one_time_password(randomness: Randomness, groups: int = 5, group_size: int = 4) -> str:
    """About 99 bits in five groups of four, such as 'k7mq-2xhe-…'."""
    return "-".join(
        "".join(randomness.choice(_ALPHABET) for _ in range(group_size)) for _ in range(groups)
    )


def create_initial_accounts(
    database: Database,
    organisations: OrganisationService,
    accounts: AccountService,
    randomness: Randomness,
) -> list[InitialCredentials]:
    """Create the first accounts when the service has no provider admin; return their passwords,
    which must be changed at first login."""
    with database.transaction() as session:
        has_admin = session.scalars(
            select(User.id).where(User.role == Role.PROVIDER_ADMIN.value)
        ).first()
    if has_admin is not None:
        return []
    actor = operator()
    client = ClientInfo(address="local", user_agent="sfs first start")
    provider_password = _acceptable_password(randomness)
    accounts.create_provider_admin(
        actor,
        email=PROVIDER_ADMIN_EMAIL,
        display_name="Provider Admin",
        password=provider_password,
        client=client,
    )
    organisation = organisations.create(actor, name=DEMO_ORGANISATION, client=client)
    org_admin_password = _acceptable_password(randomness)
    accounts.create_user(
        actor,
        organization_id=organisation.id,
        email=DEMO_ORG_ADMIN_EMAIL,
        display_name="Demo Admin",
        password=org_admin_password,
        role=Role.ORG_ADMIN,
        client=client,
    )
    # The passwords were printed (to a terminal, a log): each is changed at its first login,
    # and until then the portal shows only Change Password and the API issues no token.
    with database.transaction() as session:
        for row in session.scalars(
            select(User).where(User.email.in_([PROVIDER_ADMIN_EMAIL, DEMO_ORG_ADMIN_EMAIL]))
        ):
            row.must_change_password = True
    return [
        InitialCredentials("Provider admin", PROVIDER_ADMIN_EMAIL, provider_password, None),
        InitialCredentials(
            "Organization Admin", DEMO_ORG_ADMIN_EMAIL, org_admin_password, DEMO_ORGANISATION
        ),
    ]


def _acceptable_password(randomness: Randomness) -> str:
    from sfs.auth.password_policy import check_password

    while True:
        candidate = one_time_password(randomness)
        try:
            check_password(candidate, email=DEMO_ORG_ADMIN_EMAIL, display_name="Demo Admin")
        except WeakPassword:  # astronomically rare, but never print a password we would refuse
            continue
        return candidate
