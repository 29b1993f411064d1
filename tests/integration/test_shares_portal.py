"""Shares with colleagues in the portal: "Share with people" on a file or folder (share, change
the role, remove, refusals shown on the page), "Shared with me" for the recipient (browse and
download, nothing outside), and the organisation's switch for internal sharing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.domain.actor import Actor
from tests.integration.test_team_folders import colleague
from tests.signed_in import log_in, page_csrf_token
from tests.world import CLIENT, Tenant, actor, make_tenant


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def owner(services: Services, acme: Tenant) -> Actor:
    """Umberto's /Team/plan.txt and /secret.txt."""
    me = actor(services, acme.user)
    mine = services.spaces.my_files(me).id
    services.file_tree.create_folder(me, space_id=mine, path="/Team", client=CLIENT)
    for path, body in (("/Team/plan.txt", b"the plan"), ("/secret.txt", b"secret")):
        services.file_content.upload(
            me,
            space_id=mine,
            path=path,
            source=[body],
            modified_at=services.clock.now(),
            base_version=None,
            client=CLIENT,
        )
    return me


def test_the_owner_shares_changes_and_removes_from_the_files_page(
    client: TestClient, services: Services, acme: Tenant, owner: Actor
) -> None:
    vera = colleague(services, acme, "vera")
    log_in(client, acme.user.email)
    assert 'href="/file/people/Team"' in client.get("/files").text
    token = page_csrf_token(client, "/file/people/Team")
    made = client.post(
        "/file/people/Team", data={"csrf_token": token, "recipient": vera.email, "role": "viewer"}
    )
    assert made.status_code == 200 and "Shared." in made.text  # after the redirect
    assert vera.email in made.text
    (share,) = services.shares.shares_of(
        owner, space_id=services.spaces.my_files(owner).id, path="/Team"
    )
    changed = client.post(
        f"/file/people-role/{share.id}", data={"csrf_token": token, "role": "editor"}
    )
    assert "The role was changed." in changed.text
    assert services.shares.share(owner, share.id).role.value == "editor"
    removed = client.post(f"/file/people-remove/{share.id}", data={"csrf_token": token})
    assert "The share was removed." in removed.text and "Only you have access." in removed.text


@pytest.mark.parametrize(
    ("recipient", "message"),
    [
        ("nobody@acme.example.com", "No colleague or group of that name in your organisation."),
        ("user@globex.example.com", "No colleague or group of that name in your organisation."),
        ("user@acme.example.com", "You cannot share with yourself."),
    ],
)
def test_a_refused_share_is_explained_on_the_page(
    client: TestClient, services: Services, acme: Tenant, owner: Actor, recipient: str, message: str
) -> None:
    make_tenant(services, "Globex")
    log_in(client, acme.user.email)
    token = page_csrf_token(client, "/file/people/Team")
    answer = client.post(
        "/file/people/Team", data={"csrf_token": token, "recipient": recipient, "role": "viewer"}
    )
    assert answer.status_code in (404, 422) and message in answer.text
    assert services.shares.shares_by(owner) == []


def test_the_recipient_finds_it_under_shared_with_me_and_nothing_beside_it(
    client: TestClient, services: Services, acme: Tenant, owner: Actor
) -> None:
    vera = colleague(services, acme, "vera")
    made = services.shares.create(
        owner,
        space_id=services.spaces.my_files(owner).id,
        path="/Team",
        role="viewer",
        client=CLIENT,
        user_email=vera.email,
    )
    log_in(client, vera.email)
    assert 'href="/shared"' in client.get("/files").text
    listed = client.get("/shared")
    assert f'href="/shared/{made.id}"' in listed.text and "Umberto Acme" in listed.text
    folder = client.get(f"/shared/{made.id}")
    assert folder.status_code == 200 and "plan.txt" in folder.text and "secret" not in folder.text
    got = client.get(f"/shared/{made.id}/plan.txt")
    assert got.content == b"the plan" and got.headers["content-disposition"].startswith(
        "attachment"
    )
    for escape in ("/../secret.txt", "/%2e%2e/secret.txt"):
        assert client.get(f"/shared/{made.id}{escape}").status_code == 404
    # Not shared with Otto: the share's id tells him nothing.
    otto = colleague(services, acme, "otto")
    client.post("/logout", data={"csrf_token": page_csrf_token(client, "/shared")})
    log_in(client, otto.email)
    assert client.get(f"/shared/{made.id}").status_code == 404
    assert client.get("/file/people/Team").status_code == 404  # his own files have no /Team


def test_the_admin_turns_internal_sharing_off_and_on(
    client: TestClient, services: Services, acme: Tenant, owner: Actor
) -> None:
    log_in(client, acme.admin.email)
    page = client.get("/organisation")
    assert 'name="internal_sharing_allowed" value="on" checked' in page.text
    token = page_csrf_token(client, "/organisation")
    form = {
        "csrf_token": token,
        "allowed_second_factors": ["totp", "email"],
        "min_password_length": "12",
        "session_idle_minutes": "60",
        "session_absolute_minutes": "720",
    }
    saved = client.post("/organisation", data=form)
    assert saved.status_code == 200
    assert not services.organisations.own_settings(
        actor(services, acme.admin)
    ).internal_sharing_allowed
    client.post("/organisation", data={**form, "internal_sharing_allowed": "on"})
    assert services.organisations.own_settings(actor(services, acme.admin)).internal_sharing_allowed
