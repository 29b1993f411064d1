"""`sfs`: serve, migrate and administer. Domain errors become one-line messages and exit codes."""

from __future__ import annotations

import sys

import click

from sfs.cli import admin as admin_commands
from sfs.cli import share as share_commands
from sfs.cli import sync as sync_commands
from sfs.cli.common import domain_errors, settings_or_exit
from sfs.cli.files import COMMANDS as FILE_COMMANDS


@click.group()
@click.version_option(package_name="sfs")
def main() -> None:
    """Secure File Sync."""


@main.command()
@click.option("--host", help="Listen address (default from SFS_HOST, else 127.0.0.1).")
@click.option("--port", type=int, help="Listen port (default from SFS_PORT, else 8080).")
@click.option(
    "--workers",
    type=int,
    help="Server processes on the port (default from SFS_WORKERS, else 1); more than one "
    "needs Redis for throttles and Redis or PostgreSQL for change notification.",
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Start the service; on first start, create the first accounts and print how to log in."""
    from sfs.app import build_services, prepare_first_start
    from sfs.web.server import create_app
    from sfs.web.serving import serve as serve_http
    from sfs.web.workers import serve_workers

    given = {"host": host, "port": port, "workers": workers}
    overrides = {k: v for k, v in given.items() if v is not None}
    settings = settings_or_exit(**overrides)
    with domain_errors():
        services = build_services(settings)
        credentials = prepare_first_start(services)
        services.keyring.check_master_key()
    click.echo(f"Secure File Sync is starting at {settings.base_url}")
    click.echo(f"  data folder: {settings.data_dir}")
    if not settings.mail_url:
        click.echo(f"  mail is written to: {settings.outbox_dir}")
    if credentials:
        click.echo("")
        click.echo(
            "First start: log in with these accounts. The passwords are shown only this once;"
        )
        click.echo("each must be changed at its first login in the portal.")
        for entry in credentials:
            where = f" of {entry.organisation}" if entry.organisation else ""
            click.echo(f"  {entry.role}{where}:")
            click.echo(f"    Email:    {entry.email}")
            click.echo(f"    Password: {entry.password}")
        click.echo("")
    sys.stdout.flush()
    if settings.workers > 1:
        # Each worker opens its own pools and threads; this process only supervises them.
        services.notifier.background.close()
        services.database.dispose()
        sys.exit(serve_workers(settings))
    serve_http(create_app(services, background_jobs=settings.background_jobs), services)
    services.notifier.background.close()  # mail queued by the last requests still goes out


@main.group()
def db() -> None:
    """The metadata database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date."""
    from sfs.metadata import migrate
    from sfs.metadata.db import Database

    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database.from_url(settings.database_url)
    try:
        with migrate.one_instance_at_a_time(database.engine):
            before = migrate.current_revision(database.engine)
            newer = migrate.schema_state(database.engine) == "newer"
            if not newer:
                migrate.upgrade(database.engine)
            after = migrate.current_revision(database.engine)
    finally:
        database.dispose()
    if newer:
        click.echo(
            f"The database is at revision {before}, from a later release than this one "
            f"({migrate.head_revision()}): nothing to do."
        )
    elif before == after:
        click.echo(f"The database is up to date (revision {after}).")
    else:
        click.echo(f"Upgraded the database from {before or 'empty'} to revision {after}.")


for _file_command in FILE_COMMANDS:  # sfs login, ls, put, get, … (sfs.cli.files)
    main.add_command(_file_command)

main.add_command(admin_commands.admin)  # sfs admin … (sfs.cli.admin)
main.add_command(share_commands.share)  # sfs share link|list|revoke (sfs.cli.share)
main.add_command(sync_commands.sync)  # sfs sync DIR [--once]
main.add_command(sync_commands.status)  # sfs status DIR
