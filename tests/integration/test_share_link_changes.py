"""Changing a share link after it was made (password, expiry, download limit, upload only, can
edit, notify), on SQLite and PostgreSQL: only its creator changes it, under the organisation's
policy as it is today; the audit says what changed and never the password; and every field of
a policy tightened later ends the existing links it no longer allows at their next use."""

from __future__ import annotations

import json
from datetime import date

import pytest

from sfs.app import Services
from sfs.domain.actor import Actor, operator
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import (
    InvalidInput,
    LinkGone,
    LinkPasswordRequired,
    NotFound,
    PermissionDenied,
)
from sfs.services.identity.accounts import UserView
from sfs.services.sharing.link_policy import LinkPolicyView
from sfs.services.sharing.links import LinkChanges, LinkOptions
from tests.integration.test_share_links import PASSWORD, VISITOR, body, events, link, mkdir, put
from tests.support import GOOD_PASSWORD, FakeClock
from tests.world import CLIENT, Tenant, actor, make_tenant

NEW_PASSWORD = "another-long-pass"


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def owner(services: Services, acme: Tenant) -> Actor:
    return actor(services, acme.user)


def change(services: Services, who: Actor, link_id: object, **fields: object) -> object:
    return services.share_links.update(
        who,
        link_id,  # type: ignore[arg-type]
        LinkChanges(**fields),  # type: ignore[arg-type]
        client=CLIENT,
    )


def test_a_new_password_voids_old_keys_and_removing_it_opens_the_link(
    services: Services, owner: Actor
) -> None:
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt", password=PASSWORD)
    old_key = services.link_access.unlock(created.token, PASSWORD, client=VISITOR)
    assert body(services, created, old_key) == b"x"
    view = services.share_links.update(
        owner, created.link.id, LinkChanges(password=NEW_PASSWORD), client=CLIENT
    )
    assert view.has_password
    with pytest.raises(LinkPasswordRequired):
        body(services, created, old_key)
    new_key = services.link_access.unlock(created.token, NEW_PASSWORD, client=VISITOR)
    assert body(services, created, new_key) == b"x"
    view = services.share_links.update(
        owner, created.link.id, LinkChanges(password=None), client=CLIENT
    )
    assert not view.has_password
    assert body(services, created) == b"x"
    changed = events(services, AuditEventType.SHARE_LINK_CHANGED)
    assert [event["changed"] for event in changed] == [
        {"password": "set"},
        {"password": "removed"},
    ]
    assert all(NEW_PASSWORD not in json.dumps(event) for event in changed)


def test_expiry_changes_stay_within_the_policy_counted_from_creation(
    services: Services, acme: Tenant, owner: Actor, clock: FakeClock
) -> None:
    admin = actor(services, acme.admin)
    services.link_policy.set_policy(admin, LinkPolicyView(max_expiry_days=30), client=CLIENT)
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt", expires_on=date(2026, 11, 30))
    clock.advance(days=10)  # 2026-12-05: the link has expired
    with pytest.raises(LinkGone):
        services.link_access.info(created.token, client=VISITOR)
    view = services.share_links.update(
        owner, created.link.id, LinkChanges(expires_on=date(2026, 12, 25)), client=CLIENT
    )
    assert view.state == "live" and body(services, created) == b"x"
    for refused in (date(2026, 12, 26), date(2026, 12, 1), None):
        with pytest.raises(InvalidInput) as problem:
            change(services, owner, created.link.id, expires_on=refused)
        assert problem.value.field == "expires"
    assert services.share_links.link(owner, created.link.id).expires_at == view.expires_at
    assert events(services, AuditEventType.SHARE_LINK_CHANGED)[-1]["changed"] == {
        "expires_at": "2026-12-26T00:00:00+00:00"
    }


def test_a_download_limit_is_raised_lowered_or_removed(services: Services, owner: Actor) -> None:
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt", max_downloads=1)
    assert body(services, created) == b"x"
    with pytest.raises(LinkGone):
        body(services, created)
    assert change(services, owner, created.link.id, max_downloads=3)
    assert services.link_access.info(created.token, client=VISITOR).downloads_left == 2
    view = services.share_links.update(
        owner, created.link.id, LinkChanges(max_downloads=None), client=CLIENT
    )
    assert view.max_downloads is None and view.download_count == 1
    assert body(services, created) == b"x"
    # A limit at or below the downloads so far uses the link up.
    assert (
        services.share_links.update(
            owner, created.link.id, LinkChanges(max_downloads=2), client=CLIENT
        ).state
        == "exhausted"
    )
    with pytest.raises(InvalidInput):
        change(services, owner, created.link.id, max_downloads=0)


def test_a_folder_link_becomes_a_file_drop_and_back_under_the_rules(
    services: Services, acme: Tenant, owner: Actor
) -> None:
    mkdir(services, owner, "box")
    put(services, owner, "box/a.txt", b"a")
    put(services, owner, "f.txt", b"x")
    folder = link(services, owner, "box")
    file = link(services, owner, "f.txt")
    view = services.share_links.update(
        owner, folder.link.id, LinkChanges(upload_only=True), client=CLIENT
    )
    assert view.upload_only
    with pytest.raises(PermissionDenied):
        services.link_access.listing(folder.token, None, "", client=VISITOR)
    with pytest.raises(InvalidInput):  # not both
        change(services, owner, folder.link.id, can_edit=True)
    view = services.share_links.update(
        owner, folder.link.id, LinkChanges(upload_only=False, can_edit=True), client=CLIENT
    )
    assert (view.upload_only, view.can_edit) == (False, True)
    assert [n.name for n in services.link_access.listing(folder.token, None, "", client=VISITOR)]
    for flag in ("upload_only", "can_edit"):
        with pytest.raises(InvalidInput):
            change(services, owner, file.link.id, **{flag: True})
    admin = actor(services, acme.admin)
    services.link_policy.set_policy(admin, LinkPolicyView(upload_only_allowed=False), client=CLIENT)
    with pytest.raises(PermissionDenied):
        change(services, owner, folder.link.id, can_edit=False, upload_only=True)


def test_only_the_creator_changes_a_live_link(
    services: Services, acme: Tenant, owner: Actor
) -> None:
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt")
    colleague = actor(services, make_member(services, acme))
    globex = make_tenant(services, "Globex")
    for stranger in (colleague, actor(services, globex.admin), actor(services, globex.user)):
        with pytest.raises(NotFound):
            change(services, stranger, created.link.id, max_downloads=5)
        with pytest.raises(NotFound):
            services.share_links.link(stranger, created.link.id)
    with pytest.raises(PermissionDenied):  # the admin sees it listed, may revoke, not change
        change(services, actor(services, acme.admin), created.link.id, max_downloads=5)
    services.share_links.revoke(owner, created.link.id, client=CLIENT)
    with pytest.raises(InvalidInput):
        change(services, owner, created.link.id, max_downloads=5)
    assert services.share_links.link(owner, created.link.id).max_downloads is None
    assert events(services, AuditEventType.SHARE_LINK_CHANGED) == []


def test_a_viewer_cannot_turn_a_link_into_one_that_writes(
    services: Services, acme: Tenant, owner: Actor
) -> None:
    admin = actor(services, acme.admin)
    team = services.team_folders.create(admin, "Projects", client=CLIENT)
    services.team_folders.set_user_role(admin, team.id, owner.email, "viewer", client=CLIENT)
    services.team_folders.set_user_role(admin, team.id, admin.email, "manager", client=CLIENT)
    services.file_tree.create_folder(admin, space_id=team.id, path="/plans", client=CLIENT)
    created = services.share_links.create(
        owner,
        space_id=team.id,
        path="/plans",
        options=LinkOptions(),
        client=CLIENT,
    )
    for flag in ("upload_only", "can_edit"):
        with pytest.raises(PermissionDenied):
            change(services, owner, created.link.id, **{flag: True})
    assert change(services, owner, created.link.id, max_downloads=4)


def test_unchanged_values_are_no_change(services: Services, owner: Actor) -> None:
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt", max_downloads=4)
    change(services, owner, created.link.id, max_downloads=4, password=None, expires_on=None)
    assert events(services, AuditEventType.SHARE_LINK_CHANGED) == []
    change(services, owner, created.link.id, max_downloads=4, notify_owner=True)
    assert events(services, AuditEventType.SHARE_LINK_CHANGED)[0]["changed"] == {
        "notify_owner": True
    }


@pytest.mark.parametrize(
    "tightened",
    [
        LinkPolicyView(links_allowed=False),
        LinkPolicyView(password_required=True),
        LinkPolicyView(max_expiry_days=3),
        LinkPolicyView(upload_only_allowed=False),
    ],
    ids=["links_allowed", "password_required", "max_expiry_days", "upload_only_allowed"],
)
def test_each_tightened_policy_field_ends_existing_links_at_their_next_use(
    services: Services, acme: Tenant, owner: Actor, clock: FakeClock, tightened: LinkPolicyView
) -> None:
    """Every field that can forbid a link is checked at every visit, whatever the link's kind
    (file, folder, file drop) and whatever the visitor does."""
    mkdir(services, owner, "drop")
    put(services, owner, "f.txt", b"x")
    file_link = link(services, owner, "f.txt")
    drop = link(services, owner, "drop", upload_only=True)
    assert services.link_access.info(file_link.token, client=VISITOR).name == "f.txt"
    services.link_policy.set_policy(actor(services, acme.admin), tightened, client=CLIENT)
    clock.advance(days=4)  # a maximum of 3 days ends a link made 4 days ago
    ended = [drop] if tightened.upload_only_allowed is False else [file_link, drop]
    for created in ended:
        with pytest.raises(LinkGone):
            services.link_access.info(created.token, client=VISITOR)
        with pytest.raises(LinkGone):
            services.link_access.upload(
                created.token, None, name="n.txt", source=[b"n"], client=VISITOR
            )
    if tightened.upload_only_allowed is False:
        assert body(services, file_link) == b"x"  # a download link is not a file drop
    else:
        with pytest.raises(LinkGone):
            body(services, file_link)


def test_the_default_expiry_applies_only_to_new_links(
    services: Services, acme: Tenant, owner: Actor, clock: FakeClock
) -> None:
    """A default is a suggestion made at creation; only the maximum bounds existing links."""
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt")
    services.link_policy.set_policy(
        actor(services, acme.admin), LinkPolicyView(default_expiry_days=1), client=CLIENT
    )
    clock.advance(days=30)
    assert body(services, created) == b"x"


def test_an_owner_revives_a_link_by_meeting_the_tightened_policy(
    services: Services, acme: Tenant, owner: Actor
) -> None:
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt")
    services.link_policy.set_policy(
        actor(services, acme.admin), LinkPolicyView(password_required=True), client=CLIENT
    )
    with pytest.raises(LinkGone):
        services.link_access.info(created.token, client=VISITOR)
    with pytest.raises(InvalidInput):  # no password where one is required: refused
        change(services, owner, created.link.id, max_downloads=9)
    change(services, owner, created.link.id, password=NEW_PASSWORD)
    key = services.link_access.unlock(created.token, NEW_PASSWORD, client=VISITOR)
    assert body(services, created, key) == b"x"
    with pytest.raises(InvalidInput):
        change(services, owner, created.link.id, password=None)


def make_member(services: Services, tenant: Tenant) -> UserView:
    return services.accounts.create_user(
        operator(),
        organization_id=tenant.organisation.id,
        email=f"colleague@{tenant.organisation.name.lower()}.example.com",
        display_name="Carol Colleague",
        password=GOOD_PASSWORD,
        client=CLIENT,
    )
