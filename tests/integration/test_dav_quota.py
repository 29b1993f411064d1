"""A WebDAV PUT under a quota: the user's or the organisation's, each refused with 507 and
nothing kept when the file would not fit, and taken when it does. (With no quota the door skips
counting before the body; the commit still counts.)"""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from tests.dav import dav_user
from tests.world import CLIENT, make_tenant, operator


@pytest.mark.parametrize("whose", ["user", "organisation"])
def test_a_put_past_a_quota_is_refused_and_keeps_nothing(
    client: TestClient, services: Services, whose: str
) -> None:
    tenant = make_tenant(services, "Acme")
    user = dav_user(services, tenant.user)
    services.retention.set_quota(
        operator(),
        organization_id=tenant.organisation.id,
        quota_bytes=1000,
        client=CLIENT,
        user_id=tenant.user.id if whose == "user" else None,
    )
    fits = client.put("/dav/a.bin", content=os.urandom(600), headers=user.headers)
    assert fits.status_code == 201, fits.text
    refused = client.put("/dav/b.bin", content=os.urandom(600), headers=user.headers)
    assert refused.status_code == 507, refused.text
    assert "Quota exceeded" in refused.text
    assert client.get("/dav/b.bin", headers=user.headers).status_code == 404
    assert client.request("MKCOL", "/dav/folder", headers=user.headers).status_code == 201


def test_with_no_quota_a_put_is_taken(client: TestClient, services: Services) -> None:
    user = dav_user(services, make_tenant(services, "Acme").user)
    body = os.urandom(5000)
    assert client.put("/dav/a.bin", content=body, headers=user.headers).status_code == 201
    assert client.get("/dav/a.bin", headers=user.headers).content == body
