"""Share links, the service rules on SQLite and PostgreSQL: creating under the organisation's
policy, what a visitor may do (password, expiry, download limit, upload only, ZIP limits, path
traversal), guessing throttled, a tightened policy applied at the next visit, and the audit."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import date

import pytest
from sqlalchemy import select

from sfs.app import Services
from sfs.domain.actor import Actor, ClientInfo, operator
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import (
    AuthenticationFailed,
    InvalidInput,
    LinkGone,
    LinkPasswordRequired,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    TooLarge,
    TooManyAttempts,
)
from sfs.metadata.link_models import ShareLink
from sfs.metadata.models import AuditEvent, User
from sfs.metadata.team_models import SpaceMember
from sfs.services.sharing.link_policy import LinkPolicyView
from sfs.services.sharing.links import CreatedLink, LinkOptions
from sfs.services.sharing.zip_stream import entry_name
from tests.support import FakeClock, read_outbox
from tests.world import CLIENT, Tenant, actor, make_tenant

VISITOR = ClientInfo(address="198.51.100.9", user_agent="visitor")
PASSWORD = "hunter-2-link-pass"


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def owner(services: Services, acme: Tenant) -> Actor:
    return actor(services, acme.user)


def put(services: Services, who: Actor, path: str, data: bytes) -> None:
    space = services.spaces.my_files(who).id
    services.file_content.upload(
        who,
        space_id=space,
        path=path,
        source=[data],
        modified_at=services.clock.now(),
        base_version=None,
        client=CLIENT,
    )


def mkdir(services: Services, who: Actor, path: str) -> None:
    space = services.spaces.my_files(who).id
    services.file_tree.create_folder(who, space_id=space, path=path, client=CLIENT)


def link(services: Services, who: Actor, path: str, **options: object) -> CreatedLink:
    return services.share_links.create(
        who,
        space_id=services.spaces.my_files(who).id,
        path=path,
        options=LinkOptions(**options),  # type: ignore[arg-type]
        client=CLIENT,
    )


def body(services: Services, created: CreatedLink, key: str | None = None, sub: str = "") -> bytes:
    download = services.link_access.download(created.token, key, sub, client=VISITOR)
    return b"".join(download.body)


def events(services: Services, kind: AuditEventType) -> list[dict[str, object]]:
    with services.database.transaction() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.event_type == kind.value).order_by(AuditEvent.id)
        ).all()
        return [{"address": row.client_address, **json.loads(row.details)} for row in rows]


def test_a_file_link_downloads_the_file_and_stores_only_a_digest(
    services: Services, owner: Actor
) -> None:
    put(services, owner, "report.pdf", b"%PDF-1.4 hello")
    created = link(services, owner, "report.pdf")
    assert created.path == "/s/" + created.token
    assert "report" not in created.path
    assert len(created.token) >= 43  # 32 random bytes, base64url: 256 bits
    with services.database.transaction() as session:
        row = session.scalars(select(ShareLink)).one()
        assert created.token not in (row.token_digest, str(row.id))
    info = services.link_access.info(created.token, client=VISITOR)
    assert (info.kind, info.name, info.size) == ("file", "report.pdf", 14)
    assert body(services, created) == b"%PDF-1.4 hello"
    assert events(services, AuditEventType.SHARE_LINK_CREATED)[0]["path"] == "/report.pdf"
    downloaded = events(services, AuditEventType.SHARE_LINK_DOWNLOADED)
    assert downloaded[0]["address"] == VISITOR.address
    assert downloaded[0]["path"] == "/report.pdf"


def test_the_link_follows_its_file_through_a_rename(services: Services, owner: Actor) -> None:
    put(services, owner, "a.txt", b"text")
    created = link(services, owner, "a.txt")
    space = services.spaces.my_files(owner).id
    services.file_tree.move(owner, space_id=space, source="a.txt", target="b.txt", client=CLIENT)
    assert services.link_access.info(created.token, client=VISITOR).name == "b.txt"


def test_a_password_is_needed_and_wrong_ones_are_throttled_per_link(
    services: Services, owner: Actor
) -> None:
    put(services, owner, "secret.txt", b"s3cret")
    created = link(services, owner, "secret.txt", password=PASSWORD)
    with pytest.raises(LinkPasswordRequired):
        body(services, created)
    with pytest.raises(LinkPasswordRequired):
        body(services, created, key="0" * 64)
    for attempt in range(10):
        address = ClientInfo(address=f"198.51.100.{attempt + 50}")
        with pytest.raises(AuthenticationFailed):
            services.link_access.unlock(created.token, "wrong-guess", client=address)
    # The eleventh guess is refused before the password is even checked, from any address.
    with pytest.raises(TooManyAttempts):
        services.link_access.unlock(created.token, PASSWORD, client=VISITOR)
    assert len(events(services, AuditEventType.SHARE_LINK_PASSWORD_FAILED)) == 10
    assert events(services, AuditEventType.SHARE_LINK_THROTTLED)


def test_the_right_password_opens_the_link_and_a_new_link_password_voids_old_keys(
    services: Services, owner: Actor
) -> None:
    put(services, owner, "secret.txt", b"s3cret")
    created = link(services, owner, "secret.txt", password=PASSWORD)
    key = services.link_access.unlock(created.token, PASSWORD, client=VISITOR)
    assert body(services, created, key) == b"s3cret"
    other = link(services, owner, "secret.txt", password=PASSWORD)
    with pytest.raises(LinkPasswordRequired):
        body(services, other, key)  # a key opens only its own link


def test_wrong_passwords_are_throttled_per_address_across_links(
    services: Services, owner: Actor
) -> None:
    put(services, owner, "f.txt", b"x")
    links = [link(services, owner, "f.txt", password=PASSWORD) for _ in range(6)]
    for created in links:
        for _ in range(9):
            try:
                services.link_access.unlock(created.token, "nope-nope", client=VISITOR)
            except AuthenticationFailed:
                pass
            except TooManyAttempts:
                break
    with pytest.raises(TooManyAttempts):
        services.link_access.unlock(links[-1].token, PASSWORD, client=VISITOR)


def test_guessing_tokens_is_throttled_per_address(services: Services, owner: Actor) -> None:
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt")
    for _ in range(30):
        with pytest.raises(NotFound):
            services.link_access.info("A" * 43, client=VISITOR)
    with pytest.raises(TooManyAttempts):
        services.link_access.info(created.token, client=VISITOR)
    # Another address is not affected.
    assert services.link_access.info(created.token, client=CLIENT).name == "f.txt"


def test_an_expired_link_is_gone_the_day_after(
    services: Services, owner: Actor, clock: FakeClock
) -> None:
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt", expires_on=date(2026, 11, 26))
    clock.advance(hours=38)  # 2026-11-26 23:00
    assert body(services, created) == b"x"
    clock.advance(hours=1)
    with pytest.raises(LinkGone):
        services.link_access.info(created.token, client=VISITOR)
    with pytest.raises(InvalidInput):
        link(services, owner, "f.txt", expires_on=date(2026, 11, 1))


def test_a_download_limit_is_used_up_and_then_the_link_is_gone(
    services: Services, owner: Actor
) -> None:
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt", max_downloads=2)
    assert body(services, created) == b"x"
    assert services.link_access.info(created.token, client=VISITOR).downloads_left == 1
    with pytest.raises(PermissionDenied):
        services.link_access.preview(created.token, None, "", client=VISITOR)
    assert body(services, created) == b"x"
    with pytest.raises(LinkGone):
        body(services, created)


def test_a_revoked_link_is_gone_and_only_its_creator_or_an_admin_revokes(
    services: Services, acme: Tenant, owner: Actor
) -> None:
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt")
    admin = actor(services, acme.admin)
    globex = make_tenant(services, "Globex")
    with pytest.raises(NotFound):
        services.share_links.revoke(actor(services, globex.admin), created.link.id, client=CLIENT)
    assert [v.id for v in services.share_links.organisation_links(admin)] == [created.link.id]
    with pytest.raises(PermissionDenied):
        services.share_links.organisation_links(owner)
    services.share_links.revoke(admin, created.link.id, client=CLIENT)
    with pytest.raises(LinkGone):
        body(services, created)
    assert services.share_links.organisation_links(admin) == []
    assert services.share_links.mine(owner)[0].state == "revoked"
    assert events(services, AuditEventType.SHARE_LINK_REVOKED)[0]["link_id"] == str(created.link.id)


def test_another_organisations_space_is_not_found(services: Services, owner: Actor) -> None:
    globex = make_tenant(services, "Globex")
    stranger = actor(services, globex.user)
    put(services, owner, "f.txt", b"x")
    with pytest.raises(NotFound):
        services.share_links.create(
            stranger,
            space_id=services.spaces.my_files(owner).id,
            path="f.txt",
            options=LinkOptions(),
            client=CLIENT,
        )
    with pytest.raises(NotFound):
        services.share_links.create(
            owner, space_id=uuid.uuid4(), path="f.txt", options=LinkOptions(), client=CLIENT
        )


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"upload_only": True}, "upload_only"),  # a file cannot take uploads
        ({"can_edit": True}, "upload_only"),
        ({"password": "short"}, "password"),
        ({"max_downloads": 0}, "max_downloads"),
        ({"expires_on": date(2300, 1, 1)}, "expires"),
    ],
)
def test_bad_options_are_refused_and_nothing_is_made(
    services: Services, owner: Actor, options: dict[str, object], field: str
) -> None:
    put(services, owner, "f.txt", b"x")
    with pytest.raises(InvalidInput) as refused:
        link(services, owner, "f.txt", **options)
    assert refused.value.field == field
    assert services.share_links.mine(owner) == []


def test_a_tightened_policy_ends_existing_links_at_their_next_use(
    services: Services, acme: Tenant, owner: Actor, clock: FakeClock
) -> None:
    admin = actor(services, acme.admin)
    put(services, owner, "f.txt", b"x")
    mkdir(services, owner, "drop")
    plain = link(services, owner, "f.txt")
    drop = link(services, owner, "drop", upload_only=True)
    protected = link(services, owner, "f.txt", password=PASSWORD)
    services.link_policy.set_policy(
        admin, LinkPolicyView(password_required=True, upload_only_allowed=False), client=CLIENT
    )
    with pytest.raises(LinkGone):
        services.link_access.info(plain.token, client=VISITOR)
    with pytest.raises(LinkGone):
        services.link_access.info(drop.token, client=VISITOR)
    assert services.link_access.info(protected.token, client=VISITOR).has_password
    with pytest.raises(InvalidInput):
        link(services, owner, "f.txt")
    services.link_policy.set_policy(admin, LinkPolicyView(max_expiry_days=7), client=CLIENT)
    clock.advance(days=7)
    assert services.link_access.info(plain.token, client=VISITOR).name == "f.txt"
    clock.advance(days=1)
    with pytest.raises(LinkGone):
        services.link_access.info(plain.token, client=VISITOR)
    services.link_policy.set_policy(admin, LinkPolicyView(links_allowed=False), client=CLIENT)
    with pytest.raises(PermissionDenied):
        link(services, owner, "f.txt")
    with pytest.raises(PermissionDenied):
        services.link_policy.set_policy(owner, LinkPolicyView(), client=CLIENT)
    assert events(services, AuditEventType.LINK_POLICY_CHANGED)


def test_a_default_expiry_comes_from_the_policy(
    services: Services, acme: Tenant, owner: Actor
) -> None:
    admin = actor(services, acme.admin)
    services.link_policy.set_policy(
        admin, LinkPolicyView(max_expiry_days=30, default_expiry_days=7), client=CLIENT
    )
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt")
    assert created.link.expires_at is not None
    assert created.link.expires_at.date() == date(2026, 12, 3)
    with pytest.raises(InvalidInput):
        link(services, owner, "f.txt", expires_on=date(2027, 1, 1))
    with pytest.raises(InvalidInput):
        services.link_policy.set_policy(
            admin, LinkPolicyView(max_expiry_days=3, default_expiry_days=7), client=CLIENT
        )


def test_a_link_dies_with_its_file_and_with_its_creators_account(
    services: Services, owner: Actor
) -> None:
    put(services, owner, "f.txt", b"x")
    mkdir(services, owner, "d")
    put(services, owner, "d/g.txt", b"y")
    file_link = link(services, owner, "d/g.txt")
    other = link(services, owner, "f.txt")
    space = services.spaces.my_files(owner).id
    services.file_tree.delete(owner, space_id=space, path="d", client=CLIENT)
    with pytest.raises(LinkGone):
        services.link_access.info(file_link.token, client=VISITOR)
    with services.database.transaction() as session:
        user = session.get(User, owner.user_id)
        assert user is not None
        user.status = "disabled"
    with pytest.raises(LinkGone):
        services.link_access.info(other.token, client=VISITOR)


def test_a_folder_link_lists_and_downloads_below_it_and_refuses_traversal(
    services: Services, owner: Actor
) -> None:
    mkdir(services, owner, "outside")
    put(services, owner, "outside/private.txt", b"private")
    mkdir(services, owner, "shared")
    mkdir(services, owner, "shared/sub")
    put(services, owner, "shared/a.txt", b"aaa")
    put(services, owner, "shared/sub/b.txt", b"bbb")
    created = link(services, owner, "shared")
    listing = services.link_access.listing(created.token, None, "", client=VISITOR)
    assert [(n.name, n.path, n.kind) for n in listing] == [
        ("sub", "/sub", "folder"),
        ("a.txt", "/a.txt", "file"),
    ]
    assert [
        n.path for n in services.link_access.listing(created.token, None, "sub", client=VISITOR)
    ] == ["/sub/b.txt"]
    assert body(services, created, sub="sub/b.txt") == b"bbb"
    for bad in ("../outside/private.txt", "sub/../../outside", "/outside/private.txt", "..\\x"):
        with pytest.raises(InvalidInput):
            body(services, created, sub=bad)
        with pytest.raises(InvalidInput):
            services.link_access.listing(created.token, None, bad, client=VISITOR)
    with pytest.raises(NotFound):
        body(services, created, sub="outside/private.txt")


def test_a_folder_zip_holds_the_tree_and_counts_one_download(
    services: Services, owner: Actor
) -> None:
    mkdir(services, owner, "shared")
    mkdir(services, owner, "shared/sub")
    mkdir(services, owner, "shared/empty")
    put(services, owner, "shared/a.txt", b"aaa")
    put(services, owner, "shared/sub/b.bin", bytes(range(256)) * 1000)
    created = link(services, owner, "shared", max_downloads=1)
    name, stream = services.link_access.zip_folder(created.token, None, "", client=VISITOR)
    assert name == "shared.zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(stream)))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == ["a.txt", "empty/", "sub/", "sub/b.bin"]
    assert archive.read("sub/b.bin") == bytes(range(256)) * 1000
    assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    with pytest.raises(LinkGone):
        services.link_access.zip_folder(created.token, None, "", client=VISITOR)


def test_a_zip_over_the_limit_is_refused_before_a_byte(services: Services, owner: Actor) -> None:
    mkdir(services, owner, "shared")
    for number in range(4):
        put(services, owner, f"shared/{number}.txt", b"12345")
    created = link(services, owner, "shared", max_downloads=5)
    access = services.link_access
    access.zip_max_entries = 3
    with pytest.raises(TooLarge):
        access.zip_folder(created.token, None, "", client=VISITOR)
    access.zip_max_entries, access.zip_max_bytes = 100, 19
    with pytest.raises(TooLarge):
        access.zip_folder(created.token, None, "", client=VISITOR)
    assert access.info(created.token, client=VISITOR).downloads_left == 5


@pytest.mark.parametrize(
    "parts", [("..", "x"), ("/etc",), ("a", "", "b"), ("a\\..\\b",), ("C:",), (".",)]
)
def test_zip_entry_names_cannot_climb_out(parts: tuple[str, ...]) -> None:
    with pytest.raises(InvalidInput):
        entry_name(parts)


def test_an_upload_only_link_takes_files_under_free_names_and_shows_nothing(
    services: Services, owner: Actor
) -> None:
    mkdir(services, owner, "drop")
    put(services, owner, "drop/existing.txt", b"old")
    created = link(services, owner, "drop", upload_only=True, notify_owner=True)
    access = services.link_access
    with pytest.raises(PermissionDenied):
        access.listing(created.token, None, "", client=VISITOR)
    with pytest.raises(PermissionDenied):
        body(services, created, sub="existing.txt")
    with pytest.raises(PermissionDenied):
        access.zip_folder(created.token, None, "", client=VISITOR)
    first = access.upload(created.token, None, name="existing.txt", source=[b"new"], client=VISITOR)
    second = access.upload(
        created.token, None, name="existing.txt", source=[b"newer"], client=VISITOR
    )
    assert (first, second) == ("existing (2).txt", "existing (3).txt")
    space = services.spaces.my_files(owner).id
    names = {n.name for n in services.file_tree.list_folder(owner, space_id=space, path="drop")}
    assert names == {"existing.txt", "existing (2).txt", "existing (3).txt"}
    old = services.file_content.download(owner, space_id=space, path="drop/existing.txt")
    assert b"".join(old.body) == b"old"
    for bad in ("../escape.txt", "a/b.txt", "CON", "x" * 300, "\u202egpj.exe", ""):
        with pytest.raises(InvalidInput):
            access.upload(created.token, None, name=bad, source=[b"x"], client=VISITOR)
    uploaded = events(services, AuditEventType.SHARE_LINK_UPLOADED)
    assert [e["path"] for e in uploaded] == ["/drop/existing (2).txt", "/drop/existing (3).txt"]
    services.notifier.background.flush()
    subjects = [m["Subject"] for m in read_outbox(services.settings.outbox_dir)]
    assert subjects.count("A file was added through your link") == 2


def test_uploads_count_against_the_creators_quota(
    services: Services, acme: Tenant, owner: Actor
) -> None:
    mkdir(services, owner, "drop")
    created = link(services, owner, "drop", upload_only=True)
    services.retention.set_quota(
        operator(),
        organization_id=acme.organisation.id,
        user_id=owner.user_id,
        quota_bytes=1000,
        client=CLIENT,
    )
    with pytest.raises(QuotaExceeded):
        services.link_access.upload(
            created.token, None, name="big.bin", source=[b"x" * 5000], client=VISITOR
        )
    space = services.spaces.my_files(owner).id
    assert services.file_tree.list_folder(owner, space_id=space, path="drop") == []


def test_a_download_link_takes_no_upload(services: Services, owner: Actor) -> None:
    mkdir(services, owner, "shared")
    created = link(services, owner, "shared")
    with pytest.raises(PermissionDenied):
        services.link_access.upload(
            created.token, None, name="x.txt", source=[b"x"], client=VISITOR
        )


def test_the_owner_hears_of_downloads_in_their_language(services: Services, owner: Actor) -> None:
    with services.database.transaction() as session:
        user = session.get(User, owner.user_id)
        assert user is not None
        user.language = "nl"
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt", notify_owner=True)
    body(services, created)
    services.notifier.background.flush()
    (message,) = read_outbox(services.settings.outbox_dir)
    assert message["To"] == owner.email
    assert "f.txt" in message.get_content()
    assert "198.51.100.9" in message.get_content()


def test_a_viewer_may_share_to_read_but_not_to_write_and_the_link_ends_with_membership(
    services: Services, acme: Tenant, owner: Actor
) -> None:
    admin = actor(services, acme.admin)
    team = services.team_folders.create(admin, "Projects", client=CLIENT)
    services.team_folders.set_user_role(admin, team.id, admin.email, "manager", client=CLIENT)
    services.team_folders.set_user_role(admin, team.id, owner.email, "viewer", client=CLIENT)
    services.file_tree.create_folder(admin, space_id=team.id, path="/plans", client=CLIENT)
    services.file_content.upload(
        admin,
        space_id=team.id,
        path="/plans/a.txt",
        source=[b"plan"],
        modified_at=services.clock.now(),
        base_version=None,
        client=CLIENT,
    )

    def make(*, can_edit: bool = False, upload_only: bool = False) -> CreatedLink:
        options = LinkOptions(can_edit=can_edit, upload_only=upload_only)
        return services.share_links.create(
            owner, space_id=team.id, path="/plans", options=options, client=CLIENT
        )

    with pytest.raises(PermissionDenied):
        make(can_edit=True)
    with pytest.raises(PermissionDenied):
        make(upload_only=True)
    created = make()
    assert [
        n.name for n in services.link_access.listing(created.token, None, "", client=VISITOR)
    ] == ["a.txt"]
    services.team_folders.remove_member(
        admin, team.id, _member_id(services, team.id), client=CLIENT
    )
    with pytest.raises(LinkGone):
        services.link_access.info(created.token, client=VISITOR)


def _member_id(services: Services, space_id: uuid.UUID) -> uuid.UUID:
    with services.database.transaction() as session:
        return session.scalars(
            select(SpaceMember.id).where(
                SpaceMember.space_id == space_id, SpaceMember.role == "viewer"
            )
        ).one()
