"""`sfs admin backup`, `restore`, `mark-restored`: backups of the embedded default, and the step
every restore of a database needs (PostgreSQL too: see docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from sfs.cli.admin_storage import human_bytes
from sfs.cli.common import (
    EXIT_FAILURE,
    EXIT_INVALID,
    admin_services,
    domain_errors,
    fail,
    settings_or_exit,
)

if TYPE_CHECKING:
    from sfs.config import Settings
    from sfs.services.storage.backup import EmbeddedLayout


def _embedded_layout(settings: Settings) -> EmbeddedLayout:
    from sqlalchemy import make_url

    from sfs.metadata.db import engine_url
    from sfs.services.storage.backup import EmbeddedLayout

    url = make_url(engine_url(settings.database_url))
    blobs = urlsplit(settings.blob_url)
    if url.get_backend_name() != "sqlite" or not url.database or blobs.scheme != "file":
        fail(
            "sfs admin backup and restore cover the embedded default (SQLite and a local chunk "
            "store); for PostgreSQL and S3 follow docs/operations.md",
            EXIT_INVALID,
        )
    return EmbeddedLayout(
        data_dir=settings.data_dir,
        database_file=Path(str(url.database)).absolute(),
        blob_root=Path(blobs.path),
        master_key_file=settings.master_key_path,
    )


@click.command("backup")
@click.argument("destination", type=click.Path(path_type=Path))
@click.option(
    "--include-master-key",
    is_flag=True,
    help="Put the master key into the backup too (by default it is kept apart: escrow it).",
)
def backup(destination: Path, include_master_key: bool) -> None:
    """Back up the database, the chunk store and (if asked) the master key into an empty folder,
    while the service runs."""
    from datetime import UTC, datetime

    from sfs.services.storage.backup import BackupIncomplete, back_up

    layout = _embedded_layout(settings_or_exit())
    with domain_errors():
        try:
            report = back_up(
                layout,
                destination.absolute(),
                include_master_key=include_master_key,
                now=datetime.now(UTC),
            )
        except BackupIncomplete as problem:
            fail(str(problem), EXIT_FAILURE)
            return
    click.echo(
        f"Backed up the database ({human_bytes(report.database_bytes)}) and {report.blobs} "
        f"blob(s) ({human_bytes(report.blob_bytes)}) into {destination}."
    )
    if report.includes_master_key:
        click.echo(
            "The backup holds the master key: whoever holds the backup can read every file. "
            "Keep it as safe as the server."
        )
    else:
        click.echo(
            f"The master key is NOT in the backup (fingerprint {report.key_fingerprint}): "
            f"keep a copy of {layout.master_key_file} apart; restore asks for it."
        )


@click.command("restore")
@click.argument("source", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--master-key",
    "master_key",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="The escrowed master key file, for a backup made without it.",
)
def restore(source: Path, master_key: Path | None) -> None:
    """Restore a backup of `sfs admin backup` into an empty data folder (never over one)."""
    from sfs.services.storage.backup import restore as restore_backup

    layout = _embedded_layout(settings_or_exit())
    with domain_errors():
        report = restore_backup(layout, source.absolute(), master_key_file=master_key)
    click.echo(
        f"Restored the backup of {report.created_at} into {layout.data_dir}: the database, "
        f"{report.blobs} blob(s), the master key ({report.master_key_source})."
    )
    click.echo(
        f"Sync clients of {report.spaces_moved_on} space(s) will list their files afresh. "
        "Run `sfs admin fsck`, then start the service."
    )


@click.command("mark-restored")
def mark_restored() -> None:
    """After restoring the database from a dump or a point in time (PostgreSQL): make sync
    clients list their spaces afresh instead of trusting changes the database no longer holds.
    Run it once, before the service starts again."""
    from sfs.services.files.changes import restart_journals

    with admin_services() as services, domain_errors():
        moved_on = restart_journals(services.database)
    click.echo(f"Moved on the change journals of {moved_on} space(s).")


COMMANDS = (backup, restore, mark_restored)
