"""`sfs`: serve, migrate and administer. Domain errors become one-line messages and exit codes."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from sfs.cli.files import COMMANDS as FILE_COMMANDS
from sfs.domain.actor import ClientInfo, operator
from sfs.domain.errors import (
    AlreadyExists,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SfsError,
)
from sfs.domain.roles import Role

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
    from sfs.config import ConfigError, load_settings  # pydantic: for server commands only

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


@click.group()
@click.version_option(package_name="sfs")
def main() -> None:
    """Secure File Sync."""


@main.command()
@click.option("--host", help="Listen address (default from SFS_HOST, else 127.0.0.1).")
@click.option("--port", type=int, help="Listen port (default from SFS_PORT, else 8080).")
def serve(host: str | None, port: int | None) -> None:
    """Start the service; on first start, create the first accounts and print how to log in."""
    import uvicorn

    from sfs.app import build_services, prepare_first_start
    from sfs.web.server import create_app

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = settings_or_exit(**overrides)
    with domain_errors():
        services = build_services(settings)
        credentials = prepare_first_start(services)
    click.echo(f"Secure File Sync is starting at {settings.base_url}")
    click.echo(f"  data folder: {settings.data_dir}")
    if not settings.mail_url:
        click.echo(f"  mail is written to: {settings.outbox_dir}")
    if credentials:
        click.echo("")
        click.echo(
            "First start: log in with these accounts. The passwords are shown only this once."
        )
        for entry in credentials:
            where = f" of {entry.organisation}" if entry.organisation else ""
            click.echo(f"  {entry.role}{where}:")
            click.echo(f"    Email:    {entry.email}")
            click.echo(f"    Password: {entry.password}")
        click.echo("")
    sys.stdout.flush()
    uvicorn.run(
        create_app(services),
        host=settings.host,
        port=settings.port,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        log_level="info",
        server_header=False,
    )


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
        before = migrate.current_revision(database.engine)
        migrate.upgrade(database.engine)
        after = migrate.current_revision(database.engine)
    finally:
        database.dispose()
    if before == after:
        click.echo(f"The database is up to date (revision {after}).")
    else:
        click.echo(f"Upgraded the database from {before or 'empty'} to revision {after}.")


@main.group()
def admin() -> None:
    """Operator commands, run on the server with full rights."""


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
        migrate.upgrade(services.database.engine)
        yield services
    finally:
        services.database.dispose()


_CLIENT = ClientInfo.command_line()


@admin.command("create-org")
@click.argument("name")
@click.option("--region", help="Region code, such as eu (the default from SFS_REGION).")
@click.option("--require-2fa", is_flag=True, help="Require a second factor for every user.")
def create_org(name: str, region: str | None, require_2fa: bool) -> None:
    """Create an organisation."""
    with admin_services() as services, domain_errors():
        org = services.organisations.create(
            operator(), name=name, region=region, require_second_factor=require_2fa, client=_CLIENT
        )
    click.echo(f"Created organisation {org.name!r} (region {org.region}, id {org.id}).")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            fail("no password on standard input", EXIT_INVALID)
        return line.removesuffix("\n").removesuffix("\r")
    if not sys.stdin.isatty():
        fail("give --password-stdin to read the password from standard input", EXIT_INVALID)
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat the new password: ") != first:
        fail("the two passwords are not the same", EXIT_INVALID)
    return first


@admin.command("create-user")
@click.option("--org", "org_name", required=True, help="Organisation name.")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True, help="Full name.")
@click.option(
    "--role", type=click.Choice([r.value for r in (Role.ORG_ADMIN, Role.USER)]), default="user"
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(
    org_name: str, email: str, display_name: str, role: str, password_stdin: bool
) -> None:
    """Create an account in an organisation."""
    actor = operator()
    with admin_services() as services, domain_errors():
        org = services.organisations.find_by_name(actor, org_name)
        password = _read_password(password_stdin)
        user = services.accounts.create_user(
            actor,
            organization_id=org.id,
            email=email,
            display_name=display_name,
            password=password,
            role=Role(role),
            client=_CLIENT,
        )
    click.echo(f"Created {user.role.label} {user.email} in {org.name!r} (id {user.id}).")


def _on_off(value: str) -> bool:
    return value == "on"


@admin.command("set-policy")
@click.option("--org", "org_name", required=True, help="Organisation name.")
@click.option("--require-2fa", type=click.Choice(["on", "off"]), required=True)
def set_policy(org_name: str, require_2fa: str) -> None:
    """Change an organisation's policy."""
    actor = operator()
    with admin_services() as services, domain_errors():
        org = services.organisations.find_by_name(actor, org_name)
        org = services.organisations.set_second_factor_requirement(
            actor, organization_id=org.id, required=_on_off(require_2fa), client=_CLIENT
        )
    state = "required" if org.require_second_factor else "not required"
    click.echo(f"Two-factor authentication is now {state} in {org.name!r}.")


def _limit(value: str) -> int | None:
    """'off' (no limit) or a whole number."""
    if value == "off":
        return None
    if not value.isdigit():
        fail(f"{value!r} is not a number (or 'off')", EXIT_INVALID)
    return int(value)


@admin.command("set-retention")
@click.option("--org", "org_name", required=True, help="Organisation name.")
@click.option("--keep-versions", default="off", help="Versions kept per file, or 'off'.")
@click.option("--keep-days", default="off", help="Days older versions are kept, or 'off'.")
def set_retention(org_name: str, keep_versions: str, keep_days: str) -> None:
    """How much file history an organisation keeps (the current version always stays)."""
    actor = operator()
    with admin_services() as services, domain_errors():
        org = services.organisations.find_by_name(actor, org_name)
        services.retention.set_retention(
            actor,
            organization_id=org.id,
            keep_versions=_limit(keep_versions),
            keep_days=_limit(keep_days),
            client=_CLIENT,
        )
    click.echo(
        f"{org.name!r} keeps {keep_versions} version(s) per file, older ones {keep_days} day(s); "
        "sfs admin gc applies it to files not changed since."
    )


@admin.command("set-quota")
@click.option("--org", "org_name", required=True, help="Organisation name.")
@click.option("--email", help="A user of the organisation (else the whole organisation).")
@click.option("--bytes", "quota", required=True, help="Stored bytes after deduplication, or 'off'.")
def set_quota(org_name: str, email: str | None, quota: str) -> None:
    """Limit what an organisation, or one of its users, may store."""
    actor = operator()
    with admin_services() as services, domain_errors():
        org = services.organisations.find_by_name(actor, org_name)
        user_id = None
        if email:
            matches = [
                u
                for u in services.accounts.list_users(actor, organization_id=org.id, search=email)
                if u.email == email.strip().casefold()
            ]
            if not matches:
                fail(f"no account {email!r} in {org.name!r}", EXIT_NOT_FOUND)
            user_id = matches[0].id
        services.retention.set_quota(
            actor,
            organization_id=org.id,
            quota_bytes=_limit(quota),
            client=_CLIENT,
            user_id=user_id,
        )
    who = email or org.name
    click.echo(f"Quota of {who!r}: {quota} bytes.")


@admin.command("list-users")
@click.option("--org", "org_name", help="Only this organisation.")
def list_users(org_name: str | None) -> None:
    """List accounts: email, name, role, status, organisation."""
    actor = operator()
    with admin_services() as services, domain_errors():
        organization_id = (
            services.organisations.find_by_name(actor, org_name).id if org_name else None
        )
        offset = 0
        rows: list[tuple[str, ...]] = []
        while True:
            page = services.accounts.list_users(
                actor, organization_id=organization_id, limit=500, offset=offset
            )
            rows += [
                (u.email, u.display_name, u.role.value, u.status.value, u.organization_name or "-")
                for u in page
            ]
            if len(page) < 500:
                break
            offset += 500
    _print_table(("EMAIL", "NAME", "ROLE", "STATUS", "ORGANISATION"), rows, click.echo)


def _print_table(
    header: tuple[str, ...], rows: list[tuple[str, ...]], echo: Callable[[str], None]
) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


for _file_command in FILE_COMMANDS:  # sfs login, ls, put, get, … (sfs.cli.files)
    main.add_command(_file_command)

# sfs admin gc, fsck, rotate-master-key: defined in sfs.cli.admin_storage on the `admin` group.
import sfs.cli.admin_storage  # noqa: E402, F401
from sfs.cli import sync as sync_commands  # noqa: E402

main.add_command(sync_commands.sync)  # sfs sync DIR [--once]
main.add_command(sync_commands.status)  # sfs status DIR
