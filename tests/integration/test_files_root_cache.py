"""The files root (My Files and the team folders at the top of the Nextcloud door) of an account
with no team folder is remembered for a few seconds; it still shows a new team folder when it
must.

Given in this process (directly or through a group), a team folder shows on the very next
request; given by another instance of the server, within the remembering time
(`credential_cache_seconds`, 5 s) at most. A root with team folders is never remembered.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import insert

from sfs.app import Services
from sfs.metadata.team_models import SpaceMember
from tests.support import FakeClock
from tests.world import CLIENT, Tenant, actor, make_tenant


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


def mount_names(services: Services, tenant: Tenant) -> list[str]:
    return [mount.name for mount in services.files_root.root(actor(services, tenant.user)).mounts]


def test_a_team_folder_given_here_shows_at_once(services: Services, acme: Tenant) -> None:
    admin = actor(services, acme.admin)
    assert mount_names(services, acme) == []
    projects = services.team_folders.create(admin, "Projects", client=CLIENT)
    assert mount_names(services, acme) == []  # not a member yet: still remembered as alone
    services.team_folders.set_user_role(
        admin, projects.id, acme.user.email, "editor", client=CLIENT
    )
    assert mount_names(services, acme) == ["Projects"]


def test_a_team_folder_given_through_a_group_shows_at_once(
    services: Services, acme: Tenant
) -> None:
    admin = actor(services, acme.admin)
    projects = services.team_folders.create(admin, "Projects", client=CLIENT)
    staff = services.groups.create(admin, "Staff", client=CLIENT)
    services.team_folders.set_group_role(admin, projects.id, staff.id, "viewer", client=CLIENT)
    assert mount_names(services, acme) == []
    services.groups.add_member(admin, staff.id, acme.user.email, client=CLIENT)
    assert mount_names(services, acme) == ["Projects"]


def test_a_team_folder_given_by_another_instance_shows_within_the_remembering_time(
    services: Services, other_instance: Services, acme: Tenant, clock: FakeClock
) -> None:
    admin = actor(services, acme.admin)
    projects = services.team_folders.create(admin, "Projects", client=CLIENT)
    assert mount_names(services, acme) == []
    other_instance.team_folders.set_user_role(
        admin, projects.id, acme.user.email, "editor", client=CLIENT
    )
    # This instance learns of it only through the database: the bound is the remembering time.
    clock.advance(seconds=services.settings.credential_cache_seconds)
    assert mount_names(services, acme) == ["Projects"]


def test_a_root_is_looked_up_again_once_the_remembering_time_is_over(
    services: Services, acme: Tenant, clock: FakeClock
) -> None:
    admin = actor(services, acme.admin)
    projects = services.team_folders.create(admin, "Projects", client=CLIENT)
    assert mount_names(services, acme) == []
    # Given behind every service's back (a raw statement on the database's own connection).
    with services.database.engine.begin() as connection:
        connection.execute(
            insert(SpaceMember).values(
                id=uuid.uuid4(),
                space_id=projects.id,
                organization_id=acme.organisation.id,
                user_id=acme.user.id,
                role="viewer",
                created_at=clock.now(),
            )
        )
    assert mount_names(services, acme) == []  # remembered
    clock.advance(seconds=services.settings.credential_cache_seconds)
    assert mount_names(services, acme) == ["Projects"]


def test_a_root_with_team_folders_is_never_remembered(
    services: Services, other_instance: Services, acme: Tenant
) -> None:
    admin = actor(services, acme.admin)
    projects = services.team_folders.create(admin, "Projects", client=CLIENT)
    services.team_folders.set_user_role(
        admin, projects.id, acme.user.email, "editor", client=CLIENT
    )
    assert mount_names(services, acme) == ["Projects"]
    other_instance.team_folders.rename(admin, projects.id, "Plans", client=CLIENT)
    assert mount_names(services, acme) == ["Plans"]  # no time passed


def test_a_folder_shared_here_shows_at_once_and_goes_with_its_share(
    services: Services, acme: Tenant
) -> None:
    admin = actor(services, acme.admin)
    mine = services.spaces.my_files(admin).id
    services.file_tree.create_folders(admin, space_id=mine, paths=["/Board"], client=CLIENT)
    assert mount_names(services, acme) == []  # remembered as alone
    made = services.shares.create(
        admin,
        space_id=mine,
        path="/Board",
        role="viewer",
        client=CLIENT,
        user_email=acme.user.email,
    )
    assert mount_names(services, acme) == ["Board"]
    services.shares.delete(admin, made.id, client=CLIENT)
    assert mount_names(services, acme) == []
