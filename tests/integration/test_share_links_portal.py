"""Share links in the portal: the Files page's "Share link" form, the node's links with revoke,
the organisation's live links and its link rules for administrators."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.domain.actor import Actor
from sfs.services.sharing.links import LinkOptions
from tests.signed_in import log_in, page_csrf_token
from tests.world import CLIENT, Tenant, actor, make_tenant


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def owner(services: Services, acme: Tenant) -> Actor:
    return actor(services, acme.user)


def put(services: Services, who: Actor, path: str, data: bytes) -> None:
    services.file_content.upload(
        who,
        space_id=services.spaces.my_files(who).id,
        path=path,
        source=[data],
        modified_at=services.clock.now(),
        base_version=None,
        client=CLIENT,
    )


def test_share_a_file_from_the_files_page_then_revoke(
    client: TestClient, services: Services, acme: Tenant, owner: Actor
) -> None:
    put(services, owner, "/Plan.txt", b"plan")
    log_in(client, acme.user.email)
    files = client.get("/files")
    assert 'href="/file/share/Plan.txt"' in files.text
    token = page_csrf_token(client, "/file/share/Plan.txt")
    made = client.post(
        "/file/share/Plan.txt",
        data={"csrf_token": token, "password": "a-long-pass", "expires": "2026-12-31"},
    )
    assert made.status_code == 201, made.text
    url = re.search(r'class="new-link" type="text" readonly value="([^"]+)"', made.text)
    assert url is not None and "/s/" in url.group(1)
    public_path = url.group(1).split("127.0.0.1:8080", 1)[-1]
    page = client.get("/file/share/Plan.txt")
    assert "2027-01-01 00:00 UTC" in page.text and url.group(1) not in page.text
    (link,) = services.share_links.mine(owner)
    revoked = client.post(
        f"/file/share-revoke/{link.id}", data={"csrf_token": token, "back": "/Plan.txt"}
    )
    assert revoked.status_code == 200 and "The link was revoked." in revoked.text
    assert client.get(public_path).status_code == 410


def test_bad_options_are_shown_and_nothing_is_made(
    client: TestClient, services: Services, acme: Tenant, owner: Actor
) -> None:
    put(services, owner, "/Plan.txt", b"plan")
    log_in(client, acme.user.email)
    token = page_csrf_token(client, "/file/share/Plan.txt")
    for data, status in (
        ({"expires": "31-12-2026"}, 422),
        ({"max_downloads": "-3"}, 422),
        ({"password": "short"}, 422),
        ({"upload_only": "on"}, 422),
    ):
        answer = client.post("/file/share/Plan.txt", data={"csrf_token": token, **data})
        assert answer.status_code == status, (data, answer.status_code)
        assert 'role="alert"' in answer.text
    forged = client.post("/file/share/Plan.txt", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert services.share_links.mine(owner) == []
    assert (
        client.post("/file/share-revoke/not-a-uuid", data={"csrf_token": token}).status_code == 404
    )


def test_the_admin_sees_and_revokes_the_organisations_links_and_sets_the_rules(
    client: TestClient, services: Services, acme: Tenant, owner: Actor
) -> None:
    put(services, owner, "/Plan.txt", b"plan")
    created = services.share_links.create(
        owner,
        space_id=services.spaces.my_files(owner).id,
        path="/Plan.txt",
        options=LinkOptions(),
        client=CLIENT,
    )
    log_in(client, acme.admin.email)
    assert 'href="/organisation/links"' in client.get("/organisation").text
    listing = client.get("/organisation/links")
    assert "/Plan.txt" in listing.text and acme.user.email in listing.text
    token = page_csrf_token(client, "/organisation/links")
    client.post(
        f"/file/share-revoke/{created.link.id}", data={"csrf_token": token, "back": "organisation"}
    )
    assert "/Plan.txt" not in client.get("/organisation/links").text
    saved = client.post(
        "/organisation/link-policy",
        data={"csrf_token": token, "links_allowed": "on", "max_expiry_days": "30"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    policy = services.link_policy.policy(actor(services, acme.admin))
    assert (policy.max_expiry_days, policy.password_required, policy.upload_only_allowed) == (
        30,
        False,
        False,
    )
    refused = client.post(
        "/organisation/link-policy",
        data={"csrf_token": token, "max_expiry_days": "3", "default_expiry_days": "7"},
    )
    assert refused.status_code == 422
    assert services.link_policy.policy(actor(services, acme.admin)).max_expiry_days == 30


def test_a_member_may_not_see_the_organisations_links_or_rules(
    client: TestClient, acme: Tenant
) -> None:
    log_in(client, acme.user.email)
    assert client.get("/organisation/links").status_code == 403
    assert client.get("/organisation/link-policy").status_code == 403


def test_change_a_link_from_its_file_page(
    client: TestClient, services: Services, acme: Tenant, owner: Actor
) -> None:
    put(services, owner, "/Plan.txt", b"plan")
    created = services.share_links.create(
        owner,
        space_id=services.spaces.my_files(owner).id,
        path="/Plan.txt",
        options=LinkOptions(password="a-long-pass"),
        client=CLIENT,
    )
    log_in(client, acme.user.email)
    page = client.get("/file/share/Plan.txt")
    assert f'href="/file/share-edit/{created.link.id}"' in page.text
    token = page_csrf_token(client, f"/file/share-edit/{created.link.id}")
    saved = client.post(
        f"/file/share-edit/{created.link.id}",
        data={
            "csrf_token": token,
            "remove_password": "on",
            "expires": "2026-12-31",
            "max_downloads": "5",
        },
    )
    assert saved.status_code == 200 and "The link was changed." in saved.text
    assert 'value="2026-12-31"' in saved.text
    view = services.share_links.link(owner, created.link.id)
    assert (view.has_password, view.max_downloads) == (False, 5)
    assert client.get(f"/s/{created.token}/download").content == b"plan"
    refused = client.post(
        f"/file/share-edit/{created.link.id}",
        data={"csrf_token": token, "password": "short", "expires": "2026-12-31"},
    )
    assert refused.status_code == 422 and "8 to 256" in refused.text
    client.cookies.clear()
    log_in(client, acme.admin.email)
    assert client.get(f"/file/share-edit/{created.link.id}").status_code == 404


@pytest.mark.parametrize("who", ["colleague", "stranger"])
def test_someone_elses_link_cannot_be_opened_or_changed_in_the_portal(
    client: TestClient, services: Services, acme: Tenant, owner: Actor, who: str
) -> None:
    put(services, owner, "/Plan.txt", b"plan")
    created = services.share_links.create(
        owner,
        space_id=services.spaces.my_files(owner).id,
        path="/Plan.txt",
        options=LinkOptions(),
        client=CLIENT,
    )
    other = make_tenant(services, "Globex").user if who == "stranger" else acme.admin
    log_in(client, other.email)
    token = page_csrf_token(client, "/files")
    assert client.get(f"/file/share-edit/{created.link.id}").status_code == 404
    refused = client.post(
        f"/file/share-edit/{created.link.id}",
        data={"csrf_token": token, "max_downloads": "1", "expires": ""},
    )
    assert refused.status_code == 404
    assert services.share_links.link(owner, created.link.id).max_downloads is None
