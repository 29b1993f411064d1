"""Schema migrations, run programmatically (`sfs db upgrade`, and on first start)."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


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
