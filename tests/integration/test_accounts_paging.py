"""The Accounts list at 10,000 users: keyset pages cover everyone once, in order; search finds."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from sfs.app import Services
from sfs.domain.actor import Actor
from sfs.metadata.models import User
from sfs.services.identity.account_admin import PAGE_SIZE
from tests.support import GOOD_PASSWORD, FakeClock, csrf_token_in
from tests.world import actor, make_tenant

COUNT = 10_000


@pytest.fixture
def big_admin(services: Services, clock: FakeClock) -> Actor:
    """Organisation Big: its admin, its user, and 10,000 more users from one bulk insert."""
    tenant = make_tenant(services, "Big")
    rows = [
        {
            "id": uuid.uuid4(),
            "organization_id": tenant.organisation.id,
            "email": f"person{n:05d}@big.example.com",
            "display_name": f"Person {n:05d}",
            "role": "user",
            "status": "active",
            "password_hash": None,
            "created_at": clock.now(),
            "must_change_password": False,
        }
        for n in range(COUNT)
    ]
    with services.database.transaction() as session:
        session.execute(insert(User), rows)
    make_tenant(services, "Other")  # never listed for Big's admin
    return actor(services, tenant.admin)


EXPECTED = ["Alice Big", *(f"Person {n:05d}" for n in range(COUNT)), "Umberto Big"]


def test_paging_forward_visits_every_account_once_in_name_order(
    services: Services, big_admin: Actor
) -> None:
    seen: list[str] = []
    page = services.account_admin.page(big_admin)
    assert page.total == COUNT + 2 and not page.has_previous
    while True:
        assert len(page.accounts) <= PAGE_SIZE
        seen += [account.display_name for account in page.accounts]
        if not page.has_next:
            break
        page = services.account_admin.page(big_admin, after=page.last_id)
        assert page.has_previous
    assert seen == EXPECTED


def test_paging_backward_returns_the_previous_page(services: Services, big_admin: Actor) -> None:
    first = services.account_admin.page(big_admin)
    second = services.account_admin.page(big_admin, after=first.last_id)
    third = services.account_admin.page(big_admin, after=second.last_id)
    back = services.account_admin.page(big_admin, before=third.first_id)
    assert back.accounts == second.accounts and back.has_previous and back.has_next
    top = services.account_admin.page(big_admin, before=second.first_id)
    assert top.accounts == first.accounts and not top.has_previous
    assert [a.display_name for a in second.accounts] == EXPECTED[PAGE_SIZE : 2 * PAGE_SIZE]


def test_search_by_name_or_email_pages_through_the_matches(
    services: Services, big_admin: Actor
) -> None:
    by_name = services.account_admin.page(big_admin, search="person 0999")
    assert [a.display_name for a in by_name.accounts] == [
        f"Person {n:05d}" for n in range(9990, 10000)
    ]
    by_email = services.account_admin.page(big_admin, search="PERSON04321@BIG")
    assert [a.email for a in by_email.accounts] == ["person04321@big.example.com"]
    many = services.account_admin.page(big_admin, search="person 01", limit=40)
    assert many.total == 1000 and many.has_next
    rest = services.account_admin.page(big_admin, search="person 01", limit=40, after=many.last_id)
    assert [a.display_name for a in rest.accounts] == [f"Person {n:05d}" for n in range(1040, 1080)]
    assert services.account_admin.page(big_admin, search="umberto other").accounts == []
    # LIKE wildcards are searched for literally.
    assert services.account_admin.page(big_admin, search="%").accounts == []


def test_the_portal_pages_with_next_and_previous_links(
    client: TestClient, services: Services, big_admin: Actor
) -> None:
    token = csrf_token_in(client.get("/login").text)
    client.post(
        "/login", data={"email": big_admin.email, "password": GOOD_PASSWORD, "csrf_token": token}
    )
    first = client.get("/accounts")
    assert "10002 accounts" in first.text and first.text.count('aria-label="Edit"') == PAGE_SIZE
    assert 'rel="prev"' not in first.text
    second = client.get("/accounts", params={"after": str(_last_id(services, big_admin))})
    assert "Person 00049" in second.text and "Person 00048</td>" not in second.text
    assert 'rel="prev"' in second.text and 'rel="next"' in second.text
    found = client.get("/accounts", params={"q": "person07777"})
    assert found.text.count('aria-label="Edit"') == 1 and "Person 07777" in found.text


def _last_id(services: Services, admin: Actor) -> uuid.UUID:
    last = services.account_admin.page(admin).last_id
    assert last is not None
    return last
