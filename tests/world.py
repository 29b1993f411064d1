"""A small world of organisations and accounts that tests build on."""

from __future__ import annotations

from dataclasses import dataclass

from sfs.app import Services
from sfs.domain.actor import Actor, ClientInfo, operator
from sfs.domain.roles import Role
from sfs.metadata.models import User
from sfs.services.identity.accounts import UserView
from sfs.services.identity.actors import actor_of
from sfs.services.organisations.organisations import OrganisationView
from tests.support import GOOD_PASSWORD

CLIENT = ClientInfo(address="203.0.113.7", user_agent="pytest")


@dataclass(frozen=True)
class Tenant:
    organisation: OrganisationView
    admin: UserView
    user: UserView


def make_tenant(services: Services, name: str) -> Tenant:
    slug = name.lower().replace(" ", "")
    organisation = services.organisations.create(operator(), name=name, client=CLIENT)
    admin = services.accounts.create_user(
        operator(),
        organization_id=organisation.id,
        email=f"admin@{slug}.example.com",
        display_name=f"Alice {name}",
        password=GOOD_PASSWORD,
        role=Role.ORG_ADMIN,
        client=CLIENT,
    )
    user = services.accounts.create_user(
        operator(),
        organization_id=organisation.id,
        email=f"user@{slug}.example.com",
        display_name=f"Umberto {name}",
        password=GOOD_PASSWORD,
        client=CLIENT,
    )
    return Tenant(organisation=organisation, admin=admin, user=user)


def actor(services: Services, view: UserView) -> Actor:
    with services.database.transaction() as session:
        row = session.get(User, view.id)
        assert row is not None
        return actor_of(row)
