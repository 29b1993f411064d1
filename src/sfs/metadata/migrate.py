"""Schema migrations, run programmatically (`sfs db upgrade`, and on first start)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"
# PostgreSQL advisory lock key for "one instance at a time migrates and bootstraps".
_START_LOCK = 0x5F5_0001


@contextmanager
def one_instance_at_a_time(engine: Engine) -> Iterator[None]:
    """Several instances started at once on PostgreSQL take turns here (an advisory lock held
    on a connection of its own), so two never migrate or create the first accounts together.
    SQLite serves one instance: nothing to take turns with."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _START_LOCK})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _START_LOCK})
            connection.commit()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def upgrade_unless_newer(engine: Engine) -> None:
    """Bring the schema to this release's head, unless a later release already took it further
    (an older instance restarting during a rolling upgrade: the additive schema suits it)."""
    if schema_state(engine) != "newer":
        upgrade(engine)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def generate_revision(engine: Engine, message: str) -> None:
    """Developer helper: autogenerate a revision against an up-to-date database."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


def schema_state(engine: Engine) -> str:
    """`current` (at our head), `newer` (a later release upgraded it: migrations are additive,
    so this code still works on it), `behind` (needs `sfs db upgrade`) or `empty`."""
    revision = current_revision(engine)
    if revision is None:
        return "empty"
    head, known = _script_revisions()
    if revision == head:
        return "current"
    return "behind" if revision in known else "newer"


@functools.cache
def _script_revisions() -> tuple[str | None, frozenset[str]]:
    """The head and every revision this release knows (read once: /readyz asks often)."""
    script = ScriptDirectory.from_config(alembic_config())
    return script.get_current_head(), frozenset(step.revision for step in script.walk_revisions())
