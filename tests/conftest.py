"""Fixtures: every database-backed test runs on SQLite and on PostgreSQL.

PostgreSQL tests skip when the server is unreachable, unless SFS_TEST_REQUIRE_POSTGRES=1
(set by .ci/run), which turns an unreachable server into a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from sfs.app import Services, build_services
from sfs.auth.throttle import RateLimiters
from sfs.config import Settings, load_settings
from sfs.crypto.passwords import PasswordHasher
from sfs.mail.outbox import OutboxMailer
from sfs.metadata import migrate
from sfs.metadata.db import Database, create_database_engine
from sfs.metadata.schema import Base
from sfs.web.server import create_app
from tests.support import FAST_HASH, FakeClock

POSTGRES_URL = os.environ.get("SFS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("SFS_TEST_REQUIRE_POSTGRES") == "1"


def _postgres_reachable() -> str | None:
    """None when reachable, else the reason."""
    engine = create_database_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure to connect means "not available here"
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating each time would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_database_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A private schema in the test database, migrated once, dropped at the end."""
    reason = _postgres_reachable()
    if reason is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but unreachable: {reason}")
        pytest.skip(f"PostgreSQL unreachable: {reason}")
    schema = f"sfs_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_database_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    engine = create_database_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "sfs.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_schema_url")
    engine = create_database_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return load_settings(data_dir=tmp_path / "data", database_url=database_url)


def _instance(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    database = Database.from_url(settings.database_url)
    built = build_services(
        settings,
        database=database,
        clock=clock,
        mailer=OutboxMailer(settings.outbox_dir),
        hasher=PasswordHasher(FAST_HASH),
        limiters=RateLimiters.from_storage_uri("memory://"),
        master_key=bytes(range(32)),
    )
    yield built
    built.notifier.background.close()
    database.dispose()


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    yield from _instance(settings, clock)


@pytest.fixture
def other_instance(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    """A second server on the same database: it shares nothing in memory with `services`."""
    yield from _instance(settings, clock)


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services), base_url="http://127.0.0.1:8080") as test_client:
        yield test_client
