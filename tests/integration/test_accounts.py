import uuid

import pytest
from sqlalchemy import func, select

from sfs.app import Services
from sfs.domain.actor import operator
from sfs.domain.errors import (
    AlreadyExists,
    InvalidInput,
    NotFound,
    PermissionDenied,
    WeakPassword,
)
from sfs.domain.roles import Role
from sfs.metadata.models import AuditEvent, Organization, User
from tests.support import GOOD_PASSWORD
from tests.world import CLIENT, actor, make_tenant


def count(services: Services, model: type) -> int:
    with services.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_creating_a_user_stores_a_normalised_email_and_an_argon2id_hash(services: Services) -> None:
    tenant = make_tenant(services, "Acme")
    user = services.accounts.create_user(
        operator(),
        organization_id=tenant.organisation.id,
        email="  Jan.Jansen@Acme.Example.COM",
        display_name="Jan Jansen",
        password=GOOD_PASSWORD,
        client=CLIENT,
    )
    assert user.email == "jan.jansen@acme.example.com"
    assert user.role is Role.USER
    with services.database.transaction() as session:
        row = session.get(User, user.id)
        assert row is not None and row.password_hash is not None
        assert row.password_hash.startswith("$argon2id$")
        assert GOOD_PASSWORD not in row.password_hash


def test_an_email_taken_in_another_case_is_refused_and_nothing_is_written(
    services: Services,
) -> None:
    tenant = make_tenant(services, "Acme")
    other = make_tenant(services, "Globex")
    users_before, events_before = count(services, User), count(services, AuditEvent)
    with pytest.raises(AlreadyExists, match="already exists"):
        services.accounts.create_user(
            actor(services, other.admin),
            organization_id=other.organisation.id,
            email=tenant.user.email.upper(),
            display_name="Someone Else",
            password=GOOD_PASSWORD,
            client=CLIENT,
        )
    assert (count(services, User), count(services, AuditEvent)) == (users_before, events_before)


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"email": "not-an-email"}, InvalidInput, "Not a valid email address"),
        ({"email": "x" * 300 + "@example.com"}, InvalidInput, "too long"),
        ({"display_name": "N" * 101}, InvalidInput, "too long"),
        ({"display_name": ""}, InvalidInput, "must not be empty"),
        ({"password": "password1234"}, WeakPassword, "too easy to guess"),
        ({"password": "short"}, WeakPassword, "at least 12"),
        ({"password": "x" * 300}, WeakPassword, "at most 256"),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_nothing_is_written(
    services: Services, fields: dict[str, str], error: type[Exception], message: str
) -> None:
    tenant = make_tenant(services, "Acme")
    users_before = count(services, User)
    arguments = {"email": "new@acme.example.com", "display_name": "Nieuwe Gebruiker"}
    arguments["password"] = GOOD_PASSWORD
    arguments.update(fields)
    with pytest.raises(error, match=message):
        services.accounts.create_user(
            operator(), organization_id=tenant.organisation.id, client=CLIENT, **arguments
        )
    assert count(services, User) == users_before


def test_an_unknown_organisation_is_not_found(services: Services) -> None:
    with pytest.raises(NotFound):
        services.accounts.create_user(
            operator(),
            organization_id=uuid.uuid4(),
            email="nobody@example.com",
            display_name="Nobody",
            password=GOOD_PASSWORD,
            client=CLIENT,
        )
    with pytest.raises(NotFound, match="No organisation named 'Nowhere'"):
        services.organisations.find_by_name(operator(), "Nowhere")


def test_organisation_names_are_unique_regardless_of_case(services: Services) -> None:
    make_tenant(services, "Acme")
    with pytest.raises(AlreadyExists):
        services.organisations.create(operator(), name="ACME", client=CLIENT)
    assert count(services, Organization) == 1


class TestTenantIsolation:
    def test_an_org_admin_cannot_see_another_organisations_users(self, services: Services) -> None:
        acme, globex = make_tenant(services, "Acme"), make_tenant(services, "Globex")
        admin = actor(services, acme.admin)
        with pytest.raises(NotFound):
            services.accounts.get_user(admin, globex.user.id)
        with pytest.raises(NotFound):
            services.accounts.list_users(admin, organization_id=globex.organisation.id)
        listed = {u.email for u in services.accounts.list_users(admin)}
        assert listed == {acme.admin.email, acme.user.email}

    def test_an_org_admin_cannot_create_users_in_another_organisation(
        self, services: Services
    ) -> None:
        acme, globex = make_tenant(services, "Acme"), make_tenant(services, "Globex")
        users_before = count(services, User)
        with pytest.raises(NotFound):
            services.accounts.create_user(
                actor(services, acme.admin),
                organization_id=globex.organisation.id,
                email="mole@globex.example.com",
                display_name="Mole",
                password=GOOD_PASSWORD,
                client=CLIENT,
            )
        assert count(services, User) == users_before

    def test_an_org_admin_cannot_change_another_organisations_policy(
        self, services: Services
    ) -> None:
        acme, globex = make_tenant(services, "Acme"), make_tenant(services, "Globex")
        with pytest.raises(NotFound):
            services.organisations.set_second_factor_requirement(
                actor(services, acme.admin),
                organization_id=globex.organisation.id,
                required=True,
                client=CLIENT,
            )
        assert not services.organisations.get(
            operator(), globex.organisation.id
        ).require_second_factor

    def test_a_plain_user_sees_only_themselves(self, services: Services) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        assert services.accounts.get_user(user, acme.user.id).email == acme.user.email
        with pytest.raises(NotFound):
            services.accounts.get_user(user, acme.admin.id)
        with pytest.raises(PermissionDenied):
            services.accounts.list_users(user)
        with pytest.raises(PermissionDenied):
            services.organisations.set_second_factor_requirement(
                user, organization_id=acme.organisation.id, required=False, client=CLIENT
            )


def test_no_one_is_raised_above_their_own_role(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    with pytest.raises(InvalidInput, match="Role must be"):
        services.accounts.create_user(
            actor(services, acme.admin),
            organization_id=acme.organisation.id,
            email="boss@acme.example.com",
            display_name="Boss",
            password=GOOD_PASSWORD,
            role=Role.PROVIDER_ADMIN,
            client=CLIENT,
        )
    with pytest.raises(PermissionDenied):
        services.accounts.create_user(
            actor(services, acme.user),
            organization_id=acme.organisation.id,
            email="friend@acme.example.com",
            display_name="Friend",
            password=GOOD_PASSWORD,
            client=CLIENT,
        )


def test_admin_actions_are_audited(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    services.organisations.set_second_factor_requirement(
        actor(services, acme.admin),
        organization_id=acme.organisation.id,
        required=True,
        client=CLIENT,
    )
    entries = services.audit.recent(actor(services, acme.admin))
    kinds = [e.event_type for e in entries]
    assert kinds[0] == "organisation.policy_changed"
    assert kinds.count("user.created") == 2
    assert entries[0].actor_email == acme.admin.email
    assert entries[0].client_address == CLIENT.address
    assert entries[0].user_agent == CLIENT.user_agent
    assert entries[0].details == {"setting": "require_second_factor", "old": False, "new": True}


def test_search_matches_names_and_emails_and_treats_wildcards_literally(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    admin = actor(services, acme.admin)
    assert [u.email for u in services.accounts.list_users(admin, search="umberto")] == [
        acme.user.email
    ]
    assert services.accounts.list_users(admin, search="%") == []
    with pytest.raises(InvalidInput):
        services.accounts.list_users(admin, limit=0)
