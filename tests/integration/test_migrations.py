import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from sfs.app import Services
from sfs.metadata import migrate
from sfs.metadata.db import create_database_engine
from sfs.metadata.schema import Base
from tests.world import CLIENT, actor, make_tenant


def test_an_empty_database_upgrades_to_head(database_url: str) -> None:
    engine = create_database_engine(database_url)
    # The fixture's database is already at head; upgrading again must be a no-op.
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"organizations", "users", "web_sessions", "device_tokens", "audit_events"} <= tables
    engine.dispose()


def test_upgrade_from_nothing_on_a_fresh_sqlite_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_database_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_the_migrations_match_the_models(database_url: str) -> None:
    engine = create_database_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


# Tables of the service itself, holding no organisation's data.
NOT_TENANT_DATA = {"organizations", "background_jobs"}


def test_tenant_tables_carry_the_organisation_id(database_url: str) -> None:
    for table in Base.metadata.sorted_tables:
        if table.name not in NOT_TENANT_DATA:
            assert "organization_id" in table.c, f"{table.name} has no organization_id"


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET event_type = 'x'", "DELETE FROM audit_events"]
)
def test_the_database_refuses_to_change_audit_events(database_url: str, statement: str) -> None:
    engine = create_database_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_events (occurred_at, event_type, details) "
                "VALUES (CURRENT_TIMESTAMP, 'test.event', '{}')"
            )
        )
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    with engine.connect() as connection:
        kinds = connection.execute(text("SELECT event_type FROM audit_events")).scalars().all()
    engine.dispose()
    assert kinds == ["test.event"]


def test_0015_upgrades_a_database_in_use_and_keeps_the_audit_log_append_only(
    database_url: str,
) -> None:
    """Additive: the rows of the release before stay, gain an empty request id, and the
    append-only guard on audit events survives the new column."""
    from alembic import command

    engine = create_database_engine(database_url)
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0013")
    assert "background_jobs" not in inspect(engine).get_table_names()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_events (occurred_at, event_type, details) "
                "VALUES (CURRENT_TIMESTAMP, 'before.upgrade', '{}')"
            )
        )
    migrate.upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT event_type, request_id FROM audit_events")).all()
        jobs = connection.execute(text("SELECT count(*) FROM background_jobs")).scalar()
    assert [tuple(row) for row in rows] == [("before.upgrade", None)] and jobs == 0
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET request_id = 'x'"))
    engine.dispose()


def test_an_older_release_starts_on_a_schema_a_later_one_upgraded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A rolling upgrade: `sfs db upgrade` of the new release ran; an old instance restarts."""
    from click.testing import CliRunner

    from sfs.cli.main import main

    database_url = f"sqlite:///{tmp_path / 'later.db'}"
    engine = create_database_engine(database_url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    assert migrate.schema_state(engine) == "newer"
    migrate.upgrade_unless_newer(engine)  # what `sfs serve` and `sfs admin` do at start
    assert migrate.current_revision(engine) == "0099"
    engine.dispose()
    environment = {"SFS_DATA_DIR": str(tmp_path / "data"), "SFS_DATABASE_URL": database_url}
    result = CliRunner().invoke(main, ["db", "upgrade"], env=environment)
    assert result.exit_code == 0 and "from a later release" in result.output


def test_the_journal_floor_comes_to_spaces_that_exist(services: Services) -> None:
    """0019 on a database with spaces and journals in it: each space keeps its journal and gets
    floor 0 (every cursor it handed out stays good)."""
    tenant = make_tenant(services, "Acme")
    who = actor(services, tenant.user)
    space = services.spaces.my_files(who)
    services.file_tree.create_folder(who, space_id=space.id, path="/kept", client=CLIENT)
    engine = services.database.engine
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0019-1")  # to the revision before 0019
    assert "journal_floor" not in {c["name"] for c in inspect(engine).get_columns("spaces")}
    migrate.upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT journal_seq, journal_floor FROM spaces")).all()
    assert (1, 0) in [tuple(row) for row in rows]
    page = services.changes.since(who, space_id=space.id, cursor=1)
    assert page.changes == [] and page.cursor == 1


def test_0025_keeps_the_receipts_of_chunks_stored_before_and_gives_uploaders_back_as_receipts(
    services: Services,
) -> None:
    """0025 on a database in use: a chunk sent before keeps its receipt, which still lets its
    sender commit it; a downgrade turns the uploaders named on chunk rows back into receipts."""
    import os

    from sfs.protocol.chunk_ids import chunk_id
    from sfs.services.files.versions import ManifestEntry

    tenant = make_tenant(services, "Acme")
    who = actor(services, tenant.user)
    assert who.organization_id is not None
    key = services.keyring.keys_for(who.organization_id).chunk_id_key
    data = os.urandom(5_000)
    known = chunk_id(key, data)
    services.file_content.put_chunks(who, [(known, data)])  # named on its row, no receipt
    engine = services.database.engine
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0025-1")  # to the revision before 0025
    assert "uploaded_by" not in {c["name"] for c in inspect(engine).get_columns("chunks")}
    with engine.connect() as connection:
        receipts = connection.execute(text("SELECT chunk_id FROM chunk_receipts")).scalars()
        assert list(receipts) == [known]
    migrate.upgrade(engine)
    with engine.connect() as connection:
        uploaders = connection.execute(text("SELECT uploaded_by FROM chunks")).scalars()
        assert list(uploaders) == [None]  # stored before: its receipt stands for it
    assert services.file_versions.missing_chunks(who, [known]) == []
    services.file_versions.commit(
        who,
        space_id=services.spaces.my_files(who).id,
        path="/kept.bin",
        manifest=[ManifestEntry(known, len(data))],
        modified_at=services.clock.now(),
        base_version=None,
        client=CLIENT,
    )
