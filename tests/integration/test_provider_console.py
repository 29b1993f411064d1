"""The provider console: organisations, their first Organization Admin, suspension."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sfs.app import Services
from sfs.auth.secrets import digest
from sfs.domain.actor import operator
from sfs.domain.errors import (
    AccountUnavailable,
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
)
from sfs.domain.roles import Role, UserStatus
from sfs.metadata.models import AccountToken
from sfs.protocol.sizes import byte_size
from sfs.services.audit import AuditFilter
from tests.signed_in import PROVIDER_ADMIN_EMAIL, log_in, make_provider_admin, page_csrf_token
from tests.support import GOOD_PASSWORD, FakeClock, read_outbox
from tests.world import CLIENT, actor, make_tenant


def test_the_overview_counts_users_and_stored_bytes(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    services.organisations.create(operator(), name="Empty Ltd", client=CLIENT)
    user = actor(services, acme.user)
    services.file_content.upload(
        user,
        space_id=services.spaces.my_files(user).id,
        path="/a.bin",
        source=[b"x" * 5000],
        modified_at=services.clock.now(),
        base_version=None,
        client=CLIENT,
    )
    overview = services.provider.overview(operator())
    # 5,000 bytes stored as one chunk: its ciphertext carries a 12-byte nonce and 16-byte tag.
    assert [(s.organisation.name, s.user_count, s.storage_used_bytes) for s in overview] == [
        ("Acme", 2, 5028),
        ("Empty Ltd", 0, 0),
    ]


def test_only_provider_admins_use_the_console(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    for who in (actor(services, acme.admin), actor(services, acme.user)):
        with pytest.raises(PermissionDenied):
            services.provider.overview(who)
        with pytest.raises(PermissionDenied):
            services.provider.suspend(who, organization_id=acme.organisation.id, client=CLIENT)
        with pytest.raises(PermissionDenied):
            services.provider.invite_organisation_admin(
                who,
                organization_id=acme.organisation.id,
                email="eve@acme.example.com",
                display_name="Eve",
                client=CLIENT,
            )


def test_suspending_stops_logins_and_open_sessions_until_reactivated(
    services: Services,
) -> None:
    acme = make_tenant(services, "Acme")
    session = services.web_sessions.start(actor(services, acme.user), client=CLIENT)
    suspended = services.provider.suspend(
        operator(), organization_id=acme.organisation.id, client=CLIENT
    )
    assert suspended.status == "suspended"
    with pytest.raises(AccountUnavailable):
        services.login.authenticate(
            email=acme.user.email, password=GOOD_PASSWORD, client=CLIENT, channel="web"
        )
    with pytest.raises(Exception, match="session has ended"):
        services.web_sessions.resolve(session.cookie_value, client=CLIENT)
    again = services.provider.reactivate(
        operator(), organization_id=acme.organisation.id, client=CLIENT
    )
    assert again.status == "active"
    services.login.authenticate(
        email=acme.user.email, password=GOOD_PASSWORD, client=CLIENT, channel="web"
    )
    kinds = [
        e.event_type
        for e in services.audit.search(operator()).entries
        if e.event_type.startswith("organisation.")
    ]
    assert kinds[:2] == ["organisation.reactivated", "organisation.suspended"]


def test_suspending_twice_records_one_event(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    for _ in range(2):
        services.provider.suspend(operator(), organization_id=acme.organisation.id, client=CLIENT)
    events = services.audit.search(
        operator(), where=AuditFilter(event_type="organisation.suspended")
    ).entries
    assert len(events) == 1


def test_an_unknown_organisation_is_not_found(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    with pytest.raises(NotFound):
        services.provider.suspend(operator(), organization_id=acme.admin.id, client=CLIENT)


def test_the_first_admin_is_invited_with_a_single_use_seven_day_link(
    services: Services, clock: FakeClock
) -> None:
    organisation = services.organisations.create(operator(), name="Initech", client=CLIENT)
    invited = services.provider.invite_organisation_admin(
        operator(),
        organization_id=organisation.id,
        email="Bill@Initech.example.com",
        display_name="Bill Lumbergh",
        client=CLIENT,
    )
    user = services.accounts.get_user(operator(), invited.id)
    assert (user.role, user.status, user.email) == (
        Role.ORG_ADMIN,
        UserStatus.INVITED,
        "bill@initech.example.com",
    )
    (mail,) = read_outbox(services.settings.outbox_dir)
    assert mail["To"] == "bill@initech.example.com"
    link = re.search(r"http://\S+/invitation/(\S+)", mail.get_content())
    assert link is not None
    secret = link.group(1)
    with services.database.transaction() as session:
        token = session.scalars(
            select(AccountToken).where(AccountToken.user_id == invited.id)
        ).one()
        assert token.purpose == "invitation"
        assert token.token_hash == digest(secret) and secret not in token.token_hash
        assert token.expires_at - clock.now() == timedelta(days=7)
    # Without a password of its own, the account cannot be logged into until the link is used.
    with pytest.raises(AuthenticationFailed):
        services.login.authenticate(
            email=user.email, password=GOOD_PASSWORD, client=CLIENT, channel="web"
        )


def _as_provider(client: TestClient, services: Services) -> None:
    make_provider_admin(services)
    log_in(client, PROVIDER_ADMIN_EMAIL)


def test_the_console_lists_creates_invites_and_suspends(
    client: TestClient, services: Services
) -> None:
    make_tenant(services, "Acme")
    _as_provider(client, services)
    page = client.get("/provider")
    assert '<a href="/provider" aria-current="page">Provider console</a>' in page.text
    assert "Storage used" in page.text
    assert '<td class="number" data-label="Storage used">0 B</td>' in page.text
    token = page_csrf_token(client, "/provider")
    created = client.post(
        "/provider/organisations",
        data={
            "csrf_token": token,
            "name": "Initech",
            "region": "eu",
            "require_second_factor": "on",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    initech = services.organisations.find_by_name(operator(), "Initech")
    assert initech.require_second_factor is True and initech.region == "eu"
    invited = client.post(
        "/provider/admins",
        data={
            "csrf_token": token,
            "organization_id": str(initech.id),
            "display_name": "Bill Lumbergh",
            "email": "bill@initech.example.com",
        },
        follow_redirects=False,
    )
    assert invited.status_code == 303
    assert "The invitation is sent." in client.get(invited.headers["location"]).text
    assert read_outbox(services.settings.outbox_dir)[-1]["To"] == "bill@initech.example.com"
    suspended = client.post(
        f"/provider/organisations/{initech.id}/suspend",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert suspended.status_code == 303
    assert services.organisations.get(operator(), initech.id).status == "suspended"
    assert "Reactivate Initech" in client.get("/provider").text
    client.post(f"/provider/organisations/{initech.id}/reactivate", data={"csrf_token": token})
    assert services.organisations.get(operator(), initech.id).status == "active"


def test_the_console_shows_refusals_with_what_was_typed(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    _as_provider(client, services)
    token = page_csrf_token(client, "/provider")
    duplicate = client.post(
        "/provider/organisations", data={"csrf_token": token, "name": "ACME", "region": "eu"}
    )
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.text and 'value="ACME"' in duplicate.text
    taken = client.post(
        "/provider/admins",
        data={
            "csrf_token": token,
            "organization_id": str(acme.organisation.id),
            "display_name": "Another",
            "email": acme.user.email,
        },
    )
    assert taken.status_code == 409 and "already exists" in taken.text
    unchosen = client.post(
        "/provider/admins",
        data={"csrf_token": token, "organization_id": "", "display_name": "X", "email": "x@y.z"},
    )
    assert unchosen.status_code == 422 and "Choose an organisation." in unchosen.text


def test_a_forged_form_changes_nothing(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    _as_provider(client, services)
    answer = client.post(
        f"/provider/organisations/{acme.organisation.id}/suspend", data={"csrf_token": "forged"}
    )
    assert answer.status_code == 403
    assert services.organisations.get(operator(), acme.organisation.id).status == "active"


@pytest.mark.parametrize("who", ["admin", "user"])
def test_organisation_members_get_403(client: TestClient, services: Services, who: str) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, getattr(acme, who).email)
    assert "/provider" not in client.get("/").text
    assert client.get("/provider").status_code == 403
    token = page_csrf_token(client, "/")
    answer = client.post(
        f"/provider/organisations/{acme.organisation.id}/suspend", data={"csrf_token": token}
    )
    assert answer.status_code == 403
    created = client.post(
        "/provider/organisations", data={"csrf_token": token, "name": "Mine", "region": "eu"}
    )
    assert created.status_code == 403
    assert services.organisations.get(operator(), acme.organisation.id).status == "active"
    assert [s.organisation.name for s in services.provider.overview(operator())] == ["Acme"]


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1536, "1.5 kB"),
        (999_960, "1.0 MB"),  # never "1000.0 kB"
        (3_000_000, "3.0 MB"),  # as the Files page and `sfs ls` show it: SI units everywhere
        (5 * 1000**3, "5.0 GB"),
    ],
)
def test_byte_sizes_read_as_people_expect(count: int, shown: str) -> None:
    assert byte_size(count) == shown
