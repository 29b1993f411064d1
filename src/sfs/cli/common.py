"""What every server-side `sfs` command shares: exit codes, settings, services, error messages.

It sits below `sfs.cli.main` and the command groups so that none of them imports another.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from sfs.domain.errors import (
    AlreadyExists,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SfsError,
)

if TYPE_CHECKING:  # the server's code loads only for server commands: clients start fast
    from sfs.app import Services
    from sfs.config import Settings

# Exit codes scripts can rely on.
EXIT_FAILURE = 1
EXIT_INVALID = 2
EXIT_NOT_FOUND = 3
EXIT_EXISTS = 4
EXIT_DENIED = 5
EXIT_CONFIG = 78

_EXIT_FOR: list[tuple[type[SfsError], int]] = [
    (InvalidInput, EXIT_INVALID),
    (NotFound, EXIT_NOT_FOUND),
    (AlreadyExists, EXIT_EXISTS),
    (PermissionDenied, EXIT_DENIED),
]


def fail(message: str, code: int) -> None:
    click.echo(f"sfs: {message}", err=True)
    sys.exit(code)


def settings_or_exit(**overrides: Any) -> Settings:
    """The settings of a server-side command (serve, db, admin). Such a process works on the
    data folder: from here on, what it or a library creates is its own alone (umask 077)."""
    from sfs.config import ConfigError, load_settings  # pydantic: for server commands only
    from sfs.private_files import SERVER_UMASK

    os.umask(SERVER_UMASK)

    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        click.echo("sfs: the configuration is not valid:", err=True)
        for line in str(exc).splitlines():
            click.echo(f"  {line}", err=True)
        sys.exit(EXIT_CONFIG)


@contextmanager
def domain_errors() -> Iterator[None]:
    try:
        yield
    except SfsError as exc:
        code = next((c for kind, c in _EXIT_FOR if isinstance(exc, kind)), EXIT_FAILURE)
        fail(exc.message, code)
    except Exception as exc:
        from sfs.crypto.master_key import MasterKeyError  # loaded by then: it opened the store

        if not isinstance(exc, MasterKeyError):
            raise
        fail(str(exc), EXIT_CONFIG)


@contextmanager
def admin_services() -> Iterator[Services]:
    """Services over an up-to-date schema, released when the command ends (even by an error)."""
    from sfs.app import build_services
    from sfs.metadata import migrate

    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with domain_errors():
        services = build_services(settings)
    try:
        migrate.upgrade_unless_newer(services.database.engine)
        yield services
    finally:
        services.database.dispose()
