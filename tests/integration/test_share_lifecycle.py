"""Shares between colleagues over time, in the service layer: the organisation's policy, the
end of a share (node deleted, group left, account deleted), the owner's management and audit,
team folder Managers, locks, single files, and the feed after the shared folder is renamed."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from sfs.app import Services
from sfs.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from sfs.domain.space_roles import SpaceRole
from sfs.metadata.models import AuditEvent
from sfs.metadata.share_models import NodeShare
from tests.integration.test_shares import World, names, put, read, refused, world
from tests.world import CLIENT, actor

__all__ = ["world"]  # the fixture this module uses


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


def test_when_the_shared_folder_is_renamed_the_feed_asks_for_a_new_listing(
    services: Services, world: World
) -> None:
    owner, mine, vera, share = world.owner, world.mine, world.people["vera"], world.share["vera"]
    cursor = services.changes.since(vera, space_id=share, cursor=0).cursor
    put(services, owner, mine, "/Shared/report.txt", b"edited before the rename\n")
    services.file_tree.move(
        owner, space_id=mine, source="/Shared", target="/Renamed", client=CLIENT
    )
    kind, message = refused(lambda: services.changes.since(vera, space_id=share, cursor=cursor))
    assert kind is Conflict and "list it again" in message
    listed, nodes = services.file_tree.snapshot(vera, space_id=share)
    assert [n.path for n in nodes] == ["/Sub", "/Sub/deep.txt", "/report.txt"]
    put(services, owner, mine, "/Renamed/later.txt", b"after\n")
    page = services.changes.since(vera, space_id=share, cursor=listed)
    assert [(c.operation, c.path) for c in page.changes] == [("create", "/later.txt")]
