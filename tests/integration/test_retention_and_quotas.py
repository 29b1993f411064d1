"""Version retention (count and age) and per-user quotas, through the services and the CLI."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from sfs.app import Services
from sfs.cli.main import main
from sfs.domain.actor import Actor, operator
from sfs.domain.errors import InvalidInput, PermissionDenied, QuotaExceeded
from tests.integration.test_file_tree import commit
from tests.support import FakeClock
from tests.world import CLIENT, actor, make_tenant


@pytest.fixture
def me(services: Services) -> Actor:
    return actor(services, make_tenant(services, "Acme").user)


def versions(services: Services, me: Actor, path: str) -> list[int]:
    space = services.spaces.my_files(me).id
    return [v.number for v in services.file_versions.list_versions(me, space_id=space, path=path)]


def test_keep_n_versions_prunes_the_oldest_on_commit(services: Services, me: Actor) -> None:
    assert me.organization_id
    services.retention.set_retention(
        operator(),
        organization_id=me.organization_id,
        keep_versions=3,
        keep_days=None,
        client=CLIENT,
    )
    space = services.spaces.my_files(me).id
    commit(services, me, space, "/doc.txt", b"v1")
    for n in range(2, 7):
        commit(services, me, space, "/doc.txt", f"v{n}".encode(), base=n - 1)
    assert versions(services, me, "/doc.txt") == [6, 5, 4]
    services.file_versions.restore_version(
        me, space_id=space, path="/doc.txt", number=4, client=CLIENT
    )
    assert versions(services, me, "/doc.txt") == [7, 6, 5]


def test_keep_days_prunes_old_versions_but_never_the_current(
    services: Services, me: Actor, clock: FakeClock
) -> None:
    assert me.organization_id
    space = services.spaces.my_files(me).id
    commit(services, me, space, "/a.txt", b"a1")
    commit(services, me, space, "/a.txt", b"a2", base=1)
    commit(services, me, space, "/old.txt", b"only version")
    services.retention.set_retention(
        operator(),
        organization_id=me.organization_id,
        keep_versions=None,
        keep_days=30,
        client=CLIENT,
    )
    clock.advance(days=31)
    assert services.retention.apply_everywhere() == 1
    assert versions(services, me, "/a.txt") == [2]
    assert versions(services, me, "/old.txt") == [1]


def test_retention_values_are_checked_and_reserved_to_admins(services: Services, me: Actor) -> None:
    assert me.organization_id
    with pytest.raises(InvalidInput, match="Keep 1 to"):
        services.retention.set_retention(
            operator(),
            organization_id=me.organization_id,
            keep_versions=0,
            keep_days=None,
            client=CLIENT,
        )
    with pytest.raises(PermissionDenied):
        services.retention.set_retention(
            me, organization_id=me.organization_id, keep_versions=5, keep_days=None, client=CLIENT
        )


def test_a_user_quota_counts_their_own_files_after_dedup(services: Services, me: Actor) -> None:
    assert me.organization_id
    services.retention.set_quota(
        operator(),
        organization_id=me.organization_id,
        quota_bytes=1000,
        client=CLIENT,
        user_id=me.user_id,
    )
    space = services.spaces.my_files(me).id
    commit(services, me, space, "/a.bin", b"x" * 600)
    commit(services, me, space, "/copy.bin", b"x" * 600)  # the same chunk: counted once
    services.file_versions.check_room(me, 300)
    with pytest.raises(QuotaExceeded, match="you may store 1000 bytes"):
        services.file_versions.check_room(me, 500)


def test_the_cli_sets_retention_and_quotas(
    services: Services, me: Actor, tmp_path: Path, database_url: str
) -> None:
    environment = {
        "SFS_DATA_DIR": str(services.settings.data_dir),
        "SFS_DATABASE_URL": database_url,
        "SFS_PASSWORD_HASH_TIME_COST": "1",
        "SFS_PASSWORD_HASH_MEMORY_KIB": "8192",
    }
    runner = CliRunner()
    done = runner.invoke(
        main, ["admin", "set-retention", "--org", "Acme", "--keep-versions", "10"], env=environment
    )
    assert done.exit_code == 0, done.output
    bad = runner.invoke(
        main, ["admin", "set-retention", "--org", "Acme", "--keep-days", "soon"], env=environment
    )
    assert bad.exit_code == 2 and "is not a number" in bad.output
    quota = runner.invoke(
        main,
        ["admin", "set-quota", "--org", "Acme", "--email", me.email, "--bytes", "5000"],
        env=environment,
    )
    assert quota.exit_code == 0, quota.output
    nobody = runner.invoke(
        main,
        [
            "admin",
            "set-quota",
            "--org",
            "Acme",
            "--email",
            "ghost@acme.example.com",
            "--bytes",
            "1",
        ],
        env=environment,
    )
    assert nobody.exit_code == 3
