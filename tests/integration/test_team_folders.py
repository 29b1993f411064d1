"""Team folders and groups in the service layer: who may reach a team folder, with which role,
for every write path; who manages it; tenancy, names and quotas."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from sfs.app import Services
from sfs.domain.actor import Actor, operator
from sfs.domain.errors import (
    AlreadyExists,
    InvalidInput,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
)
from sfs.metadata.file_models import Space
from sfs.metadata.models import AuditEvent, Organization
from sfs.services.files.properties import SetProperty
from tests.integration.test_file_tree import WHEN, fake_chunks
from tests.support import GOOD_PASSWORD
from tests.world import CLIENT, Tenant, actor, make_tenant


def colleague(services: Services, tenant: Tenant, name: str) -> Actor:
    slug = tenant.organisation.name.lower()
    view = services.accounts.create_user(
        operator(),
        organization_id=tenant.organisation.id,
        email=f"{name}@{slug}.example.com",
        display_name=name.title(),
        password=GOOD_PASSWORD,
        client=CLIENT,
    )
    return actor(services, view)


@dataclass
class Team:
    tenant: Tenant
    admin: Actor
    folder: uuid.UUID
    people: dict[str, Actor]


@pytest.fixture
def team(services: Services) -> Team:
    """'Projects' with a Viewer, an Editor and a Manager directly, a Viewer and an Editor
    through groups, and a colleague who is no member."""
    tenant = make_tenant(services, "Acme")
    admin = actor(services, tenant.admin)
    folder = services.team_folders.create(admin, "Projects", client=CLIENT).id
    people = {
        name: colleague(services, tenant, name)
        for name in ("viewer", "editor", "manager", "gviewer", "geditor", "outsider")
    }
    for name in ("viewer", "editor", "manager"):
        services.team_folders.set_user_role(admin, folder, people[name].email, name, client=CLIENT)
    for name, role in (("gviewer", "viewer"), ("geditor", "editor")):
        group = services.groups.create(admin, f"{role}s", client=CLIENT)
        services.groups.add_member(admin, group.id, people[name].email, client=CLIENT)
        services.team_folders.set_group_role(admin, folder, group.id, role, client=CLIENT)
    # Something to act on: a folder, a file with two versions, a file in the trash.
    editor = people["editor"]
    files = services.file_tree
    files.create_folder(editor, space_id=folder, path="/Docs", client=CLIENT)
    for body, base in ((b"one", None), (b"two", 1)):
        services.file_versions.commit(
            editor,
            space_id=folder,
            path="/Docs/plan.txt",
            manifest=fake_chunks(services, editor, body),
            modified_at=WHEN,
            base_version=base,
            client=CLIENT,
        )
    services.file_versions.commit(
        editor,
        space_id=folder,
        path="/gone.txt",
        manifest=fake_chunks(services, editor, b"gone"),
        modified_at=WHEN,
        base_version=None,
        client=CLIENT,
    )
    files.delete(editor, space_id=folder, path="/gone.txt", client=CLIENT)
    return Team(tenant, admin, folder, people)


def trashed_id(services: Services, team: Team) -> uuid.UUID:
    (node,) = services.file_tree.trash(team.people["editor"], space_id=team.folder)
    return node.id


Write = Callable[[Services, Team, Actor], object]

WRITES: dict[str, Write] = {
    "mkdir": lambda s, t, a: s.file_tree.create_folder(
        a, space_id=t.folder, path="/New", client=CLIENT
    ),
    "mkdir batch": lambda s, t, a: s.file_tree.create_folders(
        a, space_id=t.folder, paths=["/A", "/A/B"], client=CLIENT
    ),
    "commit": lambda s, t, a: s.file_versions.commit(
        a,
        space_id=t.folder,
        path="/new.txt",
        manifest=fake_chunks(s, a, b"new"),
        modified_at=WHEN,
        base_version=None,
        client=CLIENT,
    ),
    "move": lambda s, t, a: s.file_tree.move(
        a, space_id=t.folder, source="/Docs", target="/Moved", client=CLIENT
    ),
    "copy": lambda s, t, a: s.file_tree.copy(
        a, space_id=t.folder, source="/Docs", target="/Copy", client=CLIENT
    ),
    "delete": lambda s, t, a: s.file_tree.delete(
        a, space_id=t.folder, path="/Docs/plan.txt", client=CLIENT
    ),
    "restore from trash": lambda s, t, a: s.file_tree.restore(
        a, space_id=t.folder, node_id=trashed_id(s, t), client=CLIENT
    ),
    "purge": lambda s, t, a: s.file_tree.purge(
        a, space_id=t.folder, node_id=trashed_id(s, t), client=CLIENT
    ),
    "restore version": lambda s, t, a: s.file_versions.restore_version(
        a, space_id=t.folder, path="/Docs/plan.txt", number=1, client=CLIENT
    ),
    "proppatch": lambda s, t, a: s.properties.patch(
        a,
        space_id=t.folder,
        path="/Docs/plan.txt",
        changes=[SetProperty("urn:x", "colour", "<x:colour xmlns:x='urn:x'>red</x:colour>")],
        modified_at=None,
        client=CLIENT,
    ),
    "lock": lambda s, t, a: s.locks.lock(
        a,
        space_id=t.folder,
        path="/Docs/plan.txt",
        exclusive=True,
        deep=False,
        owner_xml=None,
        timeout_seconds=60,
    ),
}

# Who may write: an Editor or a Manager, directly or through a group.
EXPECTED = {
    "viewer": PermissionDenied,
    "gviewer": PermissionDenied,
    "outsider": NotFound,
    "editor": None,
    "geditor": None,
    "manager": None,
}


def journal(services: Services, team: Team) -> int:
    with services.database.transaction() as session:
        space = session.get(Space, team.folder)
        assert space is not None
        return space.journal_seq


@pytest.mark.parametrize("who", sorted(EXPECTED))
@pytest.mark.parametrize("action", sorted(WRITES))
def test_roles_times_write_actions(services: Services, team: Team, who: str, action: str) -> None:
    person = team.people[who]
    before = journal(services, team)
    refusal = EXPECTED[who]
    if refusal is None:
        WRITES[action](services, team, person)
        return
    with pytest.raises(refusal) as caught:
        WRITES[action](services, team, person)
    if refusal is PermissionDenied:
        assert "Viewer" in caught.value.message and "Projects" in caught.value.message
    else:
        assert "Projects" not in caught.value.message
    assert journal(services, team) == before
    editor = team.people["editor"]
    paths = {n.path for n in services.file_tree.snapshot(editor, space_id=team.folder)[1]}
    assert paths == {"/Docs", "/Docs/plan.txt"}
    assert services.locks.locks_on(editor, space_id=team.folder, path="/Docs/plan.txt") == []


@pytest.mark.parametrize("who", ["viewer", "gviewer", "editor", "geditor", "manager"])
def test_every_member_reads_and_lists_the_folder_with_their_role(
    services: Services, team: Team, who: str
) -> None:
    person = team.people[who]
    names = [n.name for n in services.file_tree.list_folder(person, space_id=team.folder, path="/")]
    assert names == ["Docs"]
    spaces = services.spaces.list_spaces(person)
    assert [(s.name, s.kind) for s in spaces] == [("My Files", "personal"), ("Projects", "team")]
    assert spaces[1].role.value == who.removeprefix("g")
    assert services.spaces.resolve_reference(person, str(team.folder)) == team.folder


def test_a_non_member_and_the_admin_who_is_no_member_cannot_read(
    services: Services, team: Team
) -> None:
    for person in (team.people["outsider"], team.admin):
        with pytest.raises(NotFound):
            services.file_tree.list_folder(person, space_id=team.folder, path="/")
        assert [s.kind for s in services.spaces.list_spaces(person)] == ["personal"]
        with pytest.raises(NotFound):
            services.file_versions.list_versions(
                person, space_id=team.folder, path="/Docs/plan.txt"
            )


def test_the_strongest_membership_counts_and_leaving_a_group_takes_its_role(
    services: Services, team: Team
) -> None:
    viewer = team.people["viewer"]
    (editors,) = [g for g in services.groups.list_groups(team.admin) if g.name == "editors"]
    services.groups.add_member(team.admin, editors.id, viewer.email, client=CLIENT)
    WRITES["mkdir"](services, team, viewer)  # Viewer directly, Editor through the group
    services.groups.remove_member(team.admin, editors.id, viewer.user_id, client=CLIENT)
    with pytest.raises(PermissionDenied):
        WRITES["commit"](services, team, viewer)


def test_a_manager_manages_members_others_may_not(services: Services, team: Team) -> None:
    manager, editor = team.people["manager"], team.people["editor"]
    outsider = team.people["outsider"]
    view = services.team_folders.set_user_role(
        manager, team.folder, outsider.email, "viewer", client=CLIENT
    )
    assert ("outsider@acme.example.com", "viewer") in {(m.label, m.role) for m in view.members}
    with pytest.raises(PermissionDenied):
        services.team_folders.set_user_role(
            editor, team.folder, outsider.email, "manager", client=CLIENT
        )
    stranger = colleague(services, team.tenant, "stranger")
    with pytest.raises(NotFound):  # not a member: the folder is not there for them
        services.team_folders.folder(stranger, team.folder)
    # Creating, renaming and deleting is for the organisation admin, not a Manager.
    for call in (
        lambda: services.team_folders.create(manager, "Other", client=CLIENT),
        lambda: services.team_folders.rename(manager, team.folder, "X", client=CLIENT),
        lambda: services.team_folders.delete(manager, team.folder, client=CLIENT),
        lambda: services.groups.create(manager, "Mine", client=CLIENT),
    ):
        with pytest.raises(PermissionDenied):
            call()
    member = next(m for m in view.members if m.label == outsider.email)
    after = services.team_folders.remove_member(manager, team.folder, member.id, client=CLIENT)
    assert outsider.email not in {m.label for m in after.members}
    with pytest.raises(NotFound):
        services.file_tree.list_folder(outsider, space_id=team.folder, path="/")


def test_other_organisations_ids_and_addresses_are_not_found_and_change_nothing(
    services: Services, team: Team
) -> None:
    other = make_tenant(services, "Globex")
    other_admin = actor(services, other.admin)
    other_user = actor(services, other.user)
    their_folder = services.team_folders.create(other_admin, "Theirs", client=CLIENT).id
    their_group = services.groups.create(other_admin, "Theirs", client=CLIENT).id
    admin = team.admin
    before = services.team_folders.folder(admin, team.folder)
    refused = [
        lambda: services.team_folders.folder(admin, their_folder),
        lambda: services.team_folders.rename(admin, their_folder, "Mine", client=CLIENT),
        lambda: services.team_folders.delete(admin, their_folder, client=CLIENT),
        lambda: services.team_folders.set_group_role(
            admin, team.folder, their_group, "editor", client=CLIENT
        ),
        lambda: services.groups.add_member(admin, their_group, other_user.email, client=CLIENT),
        lambda: services.groups.delete(admin, their_group, client=CLIENT),
        lambda: services.file_tree.list_folder(other_user, space_id=team.folder, path="/"),
        lambda: WRITES["mkdir"](services, team, other_user),
        lambda: services.team_folders.folder(other_admin, team.folder),
    ]
    for call in refused:
        with pytest.raises(NotFound):
            call()
    # A colleague of another organisation, and an address nobody has: the same answer (422 on
    # the address, since the folder and the group named do exist).
    answers = set()
    for email in (other_user.email, "nobody@nowhere.example.com", "not an address"):
        with pytest.raises(InvalidInput) as caught:
            services.team_folders.set_user_role(admin, team.folder, email, "viewer", client=CLIENT)
        answers.add(caught.value.message)
        with pytest.raises(InvalidInput) as caught:
            services.groups.add_member(
                admin, services.groups.list_groups(admin)[0].id, email, client=CLIENT
            )
        answers.add(caught.value.message)
    assert len(answers) == 1
    assert services.team_folders.folder(admin, team.folder) == before
    assert [f.name for f in services.team_folders.list_all(other_admin)] == ["Theirs"]


def test_names_are_checked_and_unique_regardless_of_case(services: Services, team: Team) -> None:
    admin = team.admin
    with pytest.raises(AlreadyExists):
        services.team_folders.create(admin, "projects", client=CLIENT)
    other = services.team_folders.create(admin, "Other", client=CLIENT)
    with pytest.raises(AlreadyExists):
        services.team_folders.rename(admin, other.id, "PROJECTS", client=CLIENT)
    for bad in ("", "a/b", "..", "x" * 101, "my files"):
        with pytest.raises(InvalidInput):
            services.team_folders.create(admin, bad, client=CLIENT)
    with pytest.raises(AlreadyExists):
        services.groups.create(admin, "Viewers", client=CLIENT)
    with pytest.raises(InvalidInput):
        services.groups.create(admin, "  ", client=CLIENT)
    with pytest.raises(InvalidInput):
        services.team_folders.set_user_role(
            admin, team.folder, team.people["outsider"].email, "owner", client=CLIENT
        )
    renamed = services.team_folders.rename(admin, other.id, "other", client=CLIENT)
    assert renamed.name == "other"


def test_the_folder_stays_when_a_member_leaves(services: Services, team: Team) -> None:
    editor = team.people["editor"]
    services.account_admin.delete(
        team.admin, editor.user_id, confirm_email=editor.email, client=CLIENT
    )
    manager = team.people["manager"]
    paths = {n.path for n in services.file_tree.snapshot(manager, space_id=team.folder)[1]}
    assert paths == {"/Docs", "/Docs/plan.txt"}
    labels = {m.label for m in services.team_folders.folder(team.admin, team.folder).members}
    assert editor.email not in labels and manager.email in labels


def test_team_files_count_against_the_organisation_quota(services: Services, team: Team) -> None:
    editor = team.people["editor"]
    with services.database.transaction() as session:
        organisation = session.get(Organization, team.tenant.organisation.id)
        assert organisation is not None
        organisation.quota_bytes = 10_000
    used = 10_000 - (services.file_versions.room_left(editor) or 0)
    assert used > 0  # the chunks of the team folder's files
    with pytest.raises(QuotaExceeded):
        services.file_versions.check_room(editor, 10_001 - used)


def test_deleting_a_team_folder_or_group_is_audited_and_drops_access(
    services: Services, team: Team
) -> None:
    admin = team.admin
    (editors,) = [g for g in services.groups.list_groups(admin) if g.name == "editors"]
    services.groups.delete(admin, editors.id, client=CLIENT)
    with pytest.raises(NotFound):
        services.file_tree.list_folder(team.people["geditor"], space_id=team.folder, path="/")
    services.team_folders.rename(admin, team.folder, "Archive", client=CLIENT)
    services.team_folders.delete(admin, team.folder, client=CLIENT)
    with pytest.raises(NotFound):
        services.file_tree.list_folder(team.people["manager"], space_id=team.folder, path="/")
    with services.database.transaction() as session:
        events = dict(
            session.execute(
                select(AuditEvent.event_type, func.count()).group_by(AuditEvent.event_type)
            ).all()
        )
    assert events["team_folder.created"] == 1
    assert events["team_folder.renamed"] == 1
    assert events["team_folder.deleted"] == 1
    assert events["team_folder.member_added"] == 5
    assert events["group.created"] == 2
    assert events["group.changed"] == 2  # a member added to each
    assert events["group.deleted"] == 1
