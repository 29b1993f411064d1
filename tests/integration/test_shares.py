"""Shares of a file or folder between colleagues, in the service layer: who may share, with
whom, with which role; and confinement: a share grants its subtree and nothing beside it, by
no path, no move, no chunk id, no node id, no change feed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from sfs.app import Services
from sfs.domain.actor import Actor
from sfs.domain.errors import (
    AlreadyExists,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SfsError,
)
from sfs.domain.space_roles import SpaceRole
from sfs.metadata.models import AuditEvent
from sfs.metadata.share_models import NodeShare
from sfs.services.sharing.links import LinkOptions
from tests.integration.test_team_folders import colleague
from tests.world import CLIENT, Tenant, actor, make_tenant

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class World:
    tenant: Tenant
    owner: Actor
    mine: uuid.UUID  # the owner's My Files
    people: dict[str, Actor]
    share: dict[str, uuid.UUID]  # share id by recipient name
    stranger: Actor  # of another organisation


def put(services: Services, who: Actor, space: uuid.UUID, path: str, body: bytes) -> None:
    try:
        base = services.file_tree.stat(who, space_id=space, path=path).version
    except NotFound:
        base = None
    services.file_content.upload(
        who,
        space_id=space,
        path=path,
        source=[body],
        modified_at=WHEN,
        base_version=base,
        client=CLIENT,
    )


def read(services: Services, who: Actor, space: uuid.UUID, path: str) -> bytes:
    return b"".join(services.file_content.download(who, space_id=space, path=path).body)


def names(services: Services, who: Actor, space: uuid.UUID, path: str = "/") -> list[str]:
    return [view.name for view in services.file_tree.list_folder(who, space_id=space, path=path)]


def chunks_of(services: Services, who: Actor, space: uuid.UUID, path: str) -> list[str]:
    _, _, entries = services.file_versions.manifest(who, space_id=space, path=path)
    return [entry.chunk_id for entry in entries]


def refused(call: Callable[[], object]) -> tuple[type[SfsError], str]:
    try:
        call()
    except SfsError as error:
        return type(error), error.message
    raise AssertionError("not refused")


@pytest.fixture
def world(services: Services) -> World:
    """Umberto's My Files: /Shared (shared with vera as Viewer, eddie as Editor and the group
    'designers' — gina — as Viewer), /Private and /top.txt beside it."""
    tenant = make_tenant(services, "Acme")
    owner = actor(services, tenant.user)
    admin = actor(services, tenant.admin)
    mine = services.spaces.my_files(owner).id
    people = {name: colleague(services, tenant, name) for name in ("vera", "eddie", "gina", "otto")}
    group = services.groups.create(admin, "Designers", client=CLIENT)
    services.groups.add_member(admin, group.id, people["gina"].email, client=CLIENT)
    for folder in ("/Shared", "/Shared/Sub", "/Private"):
        services.file_tree.create_folder(owner, space_id=mine, path=folder, client=CLIENT)
    put(services, owner, mine, "/Shared/report.txt", b"the shared report\n")
    put(services, owner, mine, "/Shared/Sub/deep.txt", b"deep inside\n")
    put(services, owner, mine, "/Private/salary.txt", b"salary: 100k\n")
    put(services, owner, mine, "/top.txt", b"top level\n")
    shares = services.shares
    share = {
        "vera": shares.create(
            owner,
            space_id=mine,
            path="/Shared",
            role="viewer",
            client=CLIENT,
            user_email=people["vera"].email,
        ).id,
        "eddie": shares.create(
            owner,
            space_id=mine,
            path="/Shared",
            role="editor",
            client=CLIENT,
            user_email=people["eddie"].email,
        ).id,
        "gina": shares.create(
            owner,
            space_id=mine,
            path="/Shared",
            role="viewer",
            client=CLIENT,
            group_name="designers",
        ).id,
    }
    stranger = actor(services, make_tenant(services, "Globex").user)
    return World(tenant, owner, mine, people, share, stranger)


def test_the_recipient_finds_the_share_and_reads_only_what_is_inside(
    services: Services, world: World
) -> None:
    vera, share = world.people["vera"], world.share["vera"]
    (found,) = services.shares.shared_with_me(vera)
    assert (found.id, found.name, found.kind, found.role) == (
        share,
        "Shared",
        "folder",
        SpaceRole.VIEWER,
    )
    assert found.shared_by == "Umberto Acme"
    assert names(services, vera, share) == ["Sub", "report.txt"]
    assert read(services, vera, share, "/report.txt") == b"the shared report\n"
    assert read(services, vera, share, "/Sub/deep.txt") == b"deep inside\n"
    top = services.file_tree.stat(vera, space_id=share, path="/")
    assert (top.name, top.path, top.kind) == ("Shared", "/", "folder")
    # A group's member reaches it too; the owner's other files are nobody's business.
    assert names(services, world.people["gina"], world.share["gina"]) == ["Sub", "report.txt"]
    assert services.shares.shared_with_me(world.people["otto"]) == []
    assert services.shares.shared_with_me(world.owner) == []


@pytest.mark.parametrize(
    "path",
    ["/../Private/salary.txt", "/Sub/../../top.txt", "/Private/salary.txt", "/top.txt", "/.."],
)
def test_no_path_leads_outside_the_shared_folder(
    services: Services, world: World, path: str
) -> None:
    vera, share = world.people["vera"], world.share["vera"]
    for call in (
        lambda: services.file_tree.stat(vera, space_id=share, path=path),
        lambda: read(services, vera, share, path),
        lambda: services.file_versions.list_versions(vera, space_id=share, path=path),
    ):
        kind, _ = refused(call)
        assert kind in (NotFound, InvalidInput)


def test_a_viewer_may_not_write_by_any_service(services: Services, world: World) -> None:
    vera, share = world.people["vera"], world.share["vera"]
    tree = services.file_tree
    calls: list[Callable[[], object]] = [
        lambda: put(services, vera, share, "/new.txt", b"x"),
        lambda: put(services, vera, share, "/report.txt", b"overwritten"),
        lambda: tree.create_folder(vera, space_id=share, path="/New", client=CLIENT),
        lambda: tree.delete(vera, space_id=share, path="/report.txt", client=CLIENT),
        lambda: tree.move(
            vera, space_id=share, source="/report.txt", target="/r.txt", client=CLIENT
        ),
        lambda: tree.copy(
            vera, space_id=share, source="/report.txt", target="/r.txt", client=CLIENT
        ),
        lambda: services.file_versions.restore_version(
            vera, space_id=share, path="/report.txt", number=1, client=CLIENT
        ),
    ]
    for call in calls:
        assert refused(call) == (
            PermissionDenied,
            "You may only read Shared: your role there is Viewer.",
        )
    assert names(services, world.owner, world.mine, "/Shared") == ["Sub", "report.txt"]


def test_an_editor_writes_inside_and_the_owner_sees_it_where_it_is(
    services: Services, world: World
) -> None:
    eddie, share, owner, mine = world.people["eddie"], world.share["eddie"], world.owner, world.mine
    put(services, eddie, share, "/notes.txt", b"from eddie\n")
    put(services, eddie, share, "/report.txt", b"edited report\n")
    services.file_tree.create_folder(eddie, space_id=share, path="/Sub/New", client=CLIENT)
    services.file_tree.move(
        eddie, space_id=share, source="/notes.txt", target="/Sub/notes.txt", client=CLIENT
    )
    services.file_tree.delete(eddie, space_id=share, path="/Sub/deep.txt", client=CLIENT)
    assert read(services, owner, mine, "/Shared/Sub/notes.txt") == b"from eddie\n"
    assert read(services, owner, mine, "/Shared/report.txt") == b"edited report\n"
    assert names(services, owner, mine, "/Shared/Sub") == ["New", "notes.txt"]
    # The owner's change feed names the whole-space paths.
    feed = services.changes.since(owner, space_id=mine, cursor=0, limit=1000).changes
    assert ("move", "/Shared/Sub/notes.txt", "/Shared/notes.txt") in {
        (c.operation, c.path, c.old_path) for c in feed
    }
    # And the owner's change reaches the recipient.
    put(services, owner, mine, "/Shared/Sub/notes.txt", b"owner's answer\n")
    assert read(services, eddie, share, "/Sub/notes.txt") == b"owner's answer\n"


def test_an_editor_may_not_delete_rename_or_move_out_the_shared_folder(
    services: Services, world: World
) -> None:
    eddie, share, tree = world.people["eddie"], world.share["eddie"], services.file_tree
    assert refused(lambda: tree.delete(eddie, space_id=share, path="/", client=CLIENT)) == (
        InvalidInput,
        "The top folder cannot be deleted.",
    )
    for source, target in (("/", "/Renamed"), ("/report.txt", "/"), ("/", "/Sub/x")):
        kind, _ = refused(
            lambda s=source, t=target: tree.move(
                eddie, space_id=share, source=s, target=t, client=CLIENT
            )
        )
        assert kind in (InvalidInput, Conflict)
    for target in ("/../report.txt", "/../Private/report.txt"):
        kind, _ = refused(
            lambda t=target: tree.move(
                eddie, space_id=share, source="/report.txt", target=t, client=CLIENT
            )
        )
        assert kind in (InvalidInput, NotFound)
    # Moving in from elsewhere: nothing outside is addressable, so only the share's own files.
    kind, _ = refused(
        lambda: tree.copy(
            eddie, space_id=share, source="/../top.txt", target="/top.txt", client=CLIENT
        )
    )
    assert kind in (InvalidInput, NotFound)
    assert names(services, world.owner, world.mine) == ["Private", "Shared", "top.txt"]
    assert names(services, world.owner, world.mine, "/Private") == ["salary.txt"]


def test_chunks_of_files_outside_the_share_stay_unusable(services: Services, world: World) -> None:
    vera, owner, mine = world.people["vera"], world.owner, world.mine
    (salary,) = chunks_of(services, owner, mine, "/Private/salary.txt")
    (report,) = chunks_of(services, owner, mine, "/Shared/report.txt")
    assert refused(lambda: services.file_content.get_chunk(vera, salary)) == (
        NotFound,
        "No such chunk.",
    )
    assert services.file_versions.missing_chunks(vera, [salary, report]) == [salary]
    assert services.file_content.get_chunk(vera, report) == b"the shared report\n"
    assert refused(lambda: list(services.file_content.get_chunks(vera, [report, salary])))[0] in (
        NotFound,
        InvalidInput,
    )
    # Once the file leaves the shared folder, its chunks go with it.
    services.file_tree.move(
        owner, space_id=mine, source="/Shared/report.txt", target="/Private/r.txt", client=CLIENT
    )
    assert services.file_versions.missing_chunks(vera, [report]) == [report]


def test_files_outside_the_share_are_unknown_by_node_id(services: Services, world: World) -> None:
    vera, share, owner, mine = world.people["vera"], world.share["vera"], world.owner, world.mine
    salary = services.file_tree.stat(owner, space_id=mine, path="/Private/salary.txt").id
    report = services.file_tree.stat(owner, space_id=mine, path="/Shared/report.txt").id
    shared = services.file_tree.stat(owner, space_id=mine, path="/Shared").id
    private = services.file_tree.stat(owner, space_id=mine, path="/Private").id
    outside, inside = services.file_versions.manifests(
        vera, space_id=share, wanted=[(salary, None), (report, None)]
    )
    assert isinstance(outside, NotFound)
    assert not isinstance(inside, SfsError) and inside.node_id == report
    sizes = services.listing.bytes_below(vera, space_id=share, folder_ids=[private, shared])
    assert sizes[private] == 0 and sizes[shared] > 0  # as for any folder it cannot see


def test_the_change_feed_of_a_share_shows_only_its_subtree_and_only_from_its_start(
    services: Services, world: World
) -> None:
    owner, mine, vera, share = world.owner, world.mine, world.people["vera"], world.share["vera"]
    services.file_tree.create_folder(owner, space_id=mine, path="/Later", client=CLIENT)
    put(services, owner, mine, "/Later/gone.txt", b"secret then\n")
    # Before it was shared, /Later held something else: the recipient never reads about it.
    services.file_tree.delete(owner, space_id=mine, path="/Later/gone.txt", client=CLIENT)
    later = services.shares.create(
        owner,
        space_id=mine,
        path="/Later",
        role="viewer",
        client=CLIENT,
        user_email=vera.email,
    ).id
    start = services.changes.since(vera, space_id=share, cursor=0).cursor
    put(services, owner, mine, "/Private/more.txt", b"private\n")
    put(services, owner, mine, "/Shared/added.txt", b"shared\n")
    services.file_tree.move(
        owner,
        space_id=mine,
        source="/Shared/report.txt",
        target="/Private/report.txt",
        client=CLIENT,
    )
    services.file_tree.move(
        owner, space_id=mine, source="/top.txt", target="/Shared/top.txt", client=CLIENT
    )
    page = services.changes.since(vera, space_id=share, cursor=start)
    seen = [(c.operation, c.path, c.old_path) for c in page.changes]
    assert seen == [
        ("create", "/added.txt", None),
        ("delete", "/report.txt", None),  # moved out: gone, not where to
        ("create", "/top.txt", None),  # moved in
    ]
    assert all("Private" not in (c.path + (c.old_path or "")) for c in page.changes)
    assert not page.more
    assert services.changes.since(vera, space_id=later, cursor=0).changes == []
    # The snapshot, too, is the subtree with its own paths.
    _, nodes = services.file_tree.snapshot(vera, space_id=share)
    assert [n.path for n in nodes] == ["/Sub", "/Sub/deep.txt", "/added.txt", "/top.txt"]


def test_the_trash_and_links_of_the_space_are_not_the_recipients(
    services: Services, world: World
) -> None:
    eddie, share = world.people["eddie"], world.share["eddie"]
    services.file_tree.delete(world.owner, space_id=world.mine, path="/top.txt", client=CLIENT)
    assert refused(lambda: services.file_tree.trash(eddie, space_id=share))[0] is PermissionDenied
    kind, _ = refused(
        lambda: services.share_links.create(
            eddie, space_id=share, path="/report.txt", options=LinkOptions(), client=CLIENT
        )
    )
    assert kind is PermissionDenied


def test_no_one_else_reaches_a_share_by_its_id(services: Services, world: World) -> None:
    share = world.share["vera"]
    # Another organisation's member, a colleague it is not shared with, and a colleague
    # it is shared with by another grant (each recipient reaches it by their own grant's id).
    for who in (world.stranger, world.people["otto"], world.people["eddie"]):
        assert refused(lambda w=who: names(services, w, share)) == (NotFound, "No such space.")
    for who in (world.stranger, world.people["otto"], world.people["vera"]):
        assert refused(
            lambda w=who: services.shares.update(w, share, role="editor", client=CLIENT)
        ) == (NotFound, "No such share.")
        assert refused(lambda w=who: services.shares.delete(w, share, client=CLIENT)) == (
            NotFound,
            "No such share.",
        )
    # A recipient may not share on what was shared with them.
    assert (
        refused(
            lambda: services.shares.create(
                world.people["eddie"],
                space_id=world.share["eddie"],
                path="/report.txt",
                role="viewer",
                client=CLIENT,
                user_email=world.people["otto"].email,
            )
        )[0]
        is PermissionDenied
    )


def test_other_organisations_people_and_groups_are_unknown_and_oneself_is_refused(
    services: Services, world: World
) -> None:
    owner, mine = world.owner, world.mine
    globex_admin = actor(services, make_tenant(services, "Initech").admin)
    services.groups.create(globex_admin, "Auditors", client=CLIENT)
    no_one = (NotFound, "No colleague or group of that name in your organisation.")

    def share_with(**recipient: str) -> tuple[type[SfsError], str]:
        return refused(
            lambda: services.shares.create(
                owner, space_id=mine, path="/top.txt", role="viewer", client=CLIENT, **recipient
            )
        )

    assert share_with(user_email=world.stranger.email) == no_one
    assert share_with(user_email="nobody@acme.example.com") == no_one
    assert share_with(user_email="not an address") == no_one
    assert share_with(group_name="Auditors") == no_one
    assert share_with(user_email=owner.email) == (InvalidInput, "You cannot share with yourself.")
    services.account_admin.disable(
        actor(services, world.tenant.admin), world.people["otto"].user_id, client=CLIENT
    )
    assert share_with(user_email=world.people["otto"].email) == no_one
    assert refused(
        lambda: services.shares.create(
            owner,
            space_id=mine,
            path="/",
            role="viewer",
            client=CLIENT,
            user_email=world.people["vera"].email,
        )
    ) == (InvalidInput, "Choose a file or folder to share, not the top folder.")
    assert refused(
        lambda: services.shares.create(
            owner,
            space_id=mine,
            path="/top.txt",
            role="manager",
            client=CLIENT,
            user_email=world.people["vera"].email,
        )
    ) == (InvalidInput, "Role must be viewer or editor.")
    assert refused(
        lambda: services.shares.create(
            owner,
            space_id=mine,
            path="/Shared",
            role="editor",
            client=CLIENT,
            user_email=world.people["vera"].email,
        )
    ) == (AlreadyExists, "It is already shared with them: change the role instead.")
    with services.database.transaction() as session:
        assert len(session.scalars(select(NodeShare)).all()) == 3  # nothing was added


def test_turning_internal_sharing_off_ends_existing_shares_at_next_use(
    services: Services, world: World
) -> None:
    admin = actor(services, world.tenant.admin)
    vera, share = world.people["vera"], world.share["vera"]
    org = world.tenant.organisation.id

    def set_sharing(allowed: bool) -> None:
        services.organisations.update_policy(
            admin, organization_id=org, client=CLIENT, internal_sharing_allowed=allowed
        )

    set_sharing(False)
    assert refused(lambda: names(services, vera, share)) == (NotFound, "No such space.")
    assert services.shares.shared_with_me(vera) == []
    assert refused(
        lambda: services.shares.create(
            world.owner,
            space_id=world.mine,
            path="/top.txt",
            role="viewer",
            client=CLIENT,
            user_email=vera.email,
        )
    ) == (PermissionDenied, "Your organisation does not allow sharing with colleagues.")
    set_sharing(True)
    assert names(services, vera, share) == ["Sub", "report.txt"]


def test_deleting_the_node_or_leaving_the_group_ends_the_share(
    services: Services, world: World
) -> None:
    owner, mine = world.owner, world.mine
    gina, gshare = world.people["gina"], world.share["gina"]
    admin = actor(services, world.tenant.admin)
    (group,) = services.groups.list_groups(admin)
    services.groups.remove_member(admin, group.id, gina.user_id, client=CLIENT)
    assert refused(lambda: names(services, gina, gshare)) == (NotFound, "No such space.")
    vera, share = world.people["vera"], world.share["vera"]
    services.file_tree.delete(owner, space_id=mine, path="/Shared", client=CLIENT)
    assert refused(lambda: names(services, vera, share)) == (NotFound, "No such space.")
    assert services.shares.shared_with_me(vera) == []
    (trashed,) = services.file_tree.trash(owner, space_id=mine)
    services.file_tree.purge(owner, space_id=mine, node_id=trashed.id, client=CLIENT)
    with services.database.transaction() as session:
        assert session.scalars(select(NodeShare)).all() == []


def test_the_owner_lists_changes_and_removes_shares_and_each_is_audited(
    services: Services, world: World
) -> None:
    owner, mine, vera = world.owner, world.mine, world.people["vera"]
    listed = services.shares.shares_of(owner, space_id=mine, path="/Shared")
    assert [(s.recipient, s.role) for s in listed] == [
        ("eddie@acme.example.com", SpaceRole.EDITOR),
        ("vera@acme.example.com", SpaceRole.VIEWER),
        ("Designers", SpaceRole.VIEWER),
    ]
    assert [s.id for s in services.shares.shares_by(owner)] == [s.id for s in listed]
    changed = services.shares.update(owner, world.share["vera"], role="editor", client=CLIENT)
    assert changed.role is SpaceRole.EDITOR
    put(services, vera, world.share["vera"], "/by-vera.txt", b"now I may\n")
    services.shares.delete(owner, world.share["vera"], client=CLIENT)
    assert refused(lambda: names(services, vera, world.share["vera"]))[0] is NotFound
    with services.database.transaction() as session:
        events = [
            (row.event_type, row.target_email)
            for row in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.event_type.like("share.%"))
                .order_by(AuditEvent.id)
            )
        ]
    assert events == [
        ("share.created", "vera@acme.example.com"),
        ("share.created", "eddie@acme.example.com"),
        ("share.created", None),
        ("share.changed", "vera@acme.example.com"),
        ("share.removed", "vera@acme.example.com"),
    ]


def test_a_manager_of_a_team_folder_shares_its_files_and_no_one_else_there_does(
    services: Services, world: World
) -> None:
    admin = actor(services, world.tenant.admin)
    folder = services.team_folders.create(admin, "Projects", client=CLIENT).id
    manager, editor = world.people["eddie"], world.people["gina"]
    services.team_folders.set_user_role(admin, folder, manager.email, "manager", client=CLIENT)
    services.team_folders.set_user_role(admin, folder, editor.email, "editor", client=CLIENT)
    services.file_tree.create_folder(editor, space_id=folder, path="/Plans", client=CLIENT)
    made = services.shares.create(
        manager,
        space_id=folder,
        path="/Plans",
        role="viewer",
        client=CLIENT,
        user_email=world.people["otto"].email,
    )
    assert names(services, world.people["otto"], made.id) == []
    assert (
        refused(
            lambda: services.shares.create(
                editor,
                space_id=folder,
                path="/Plans",
                role="viewer",
                client=CLIENT,
                user_email=world.people["vera"].email,
            )
        )[0]
        is PermissionDenied
    )
    assert refused(lambda: services.shares.delete(editor, made.id, client=CLIENT)) == (
        NotFound,
        "No such share.",
    )
    services.shares.delete(manager, made.id, client=CLIENT)


def test_locks_taken_through_a_share_guard_the_owners_path(
    services: Services, world: World
) -> None:
    eddie, share = world.people["eddie"], world.share["eddie"]
    held = services.locks.lock(
        eddie,
        space_id=share,
        path="/report.txt",
        exclusive=True,
        deep=False,
        owner_xml=None,
        timeout_seconds=60,
    )
    assert held.path == "/report.txt"
    (seen,) = services.locks.locks_on(world.owner, space_id=world.mine, path="/Shared/report.txt")
    assert seen.token == held.token and seen.path == "/Shared/report.txt"


def test_a_shared_file_is_read_at_its_own_root_and_is_no_space_to_sync(
    services: Services, world: World
) -> None:
    vera = world.people["vera"]

    def share_top(role: str) -> uuid.UUID:
        made = services.shares.create(
            world.owner,
            space_id=world.mine,
            path="/top.txt",
            role=role,
            client=CLIENT,
            user_email=vera.email,
        )
        return made.id

    assert refused(lambda: share_top("editor")) == (
        InvalidInput,
        "A single file is shared as Viewer; share its folder to let them edit it.",
    )
    made = share_top("viewer")
    assert (
        refused(lambda: services.shares.update(world.owner, made, role="editor", client=CLIENT))[0]
        is InvalidInput
    )
    assert read(services, vera, made, "/") == b"top level\n"
    assert {(s.name, s.kind) for s in services.shares.shared_with_me(vera)} == {
        ("Shared", "folder"),
        ("top.txt", "file"),
    }
    assert [(s.name, s.kind) for s in services.spaces.list_spaces(vera)] == [
        ("My Files", "personal"),
        ("Shared", "share"),
    ]
    assert refused(lambda: names(services, vera, made))[0] is InvalidInput


def test_a_deleted_recipient_leaves_no_share_and_a_deleted_owner_takes_theirs_along(
    services: Services, world: World
) -> None:
    admin = actor(services, world.tenant.admin)
    vera = world.people["vera"]
    services.account_admin.delete(admin, vera.user_id, confirm_email=vera.email, client=CLIENT)
    listed = services.shares.shares_of(world.owner, space_id=world.mine, path="/Shared")
    assert "vera@acme.example.com" not in {s.recipient for s in listed}
    services.account_admin.delete(
        admin, world.owner.user_id, confirm_email=world.owner.email, client=CLIENT
    )
    eddie = world.people["eddie"]
    assert refused(lambda: names(services, eddie, world.share["eddie"])) == (
        NotFound,
        "No such space.",
    )
    assert services.shares.shared_with_me(eddie) == []
