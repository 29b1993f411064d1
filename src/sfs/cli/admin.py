"""`sfs admin …`: operator commands, run on the server with full rights."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable

import click

from sfs.cli import admin_backup, admin_jobs, admin_storage
from sfs.cli.common import EXIT_INVALID, EXIT_NOT_FOUND, admin_services, domain_errors, fail
from sfs.domain.actor import ClientInfo, operator
from sfs.domain.roles import Role


@click.group()
def admin() -> None:
    """Operator commands, run on the server with full rights."""


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
@click.option("--require-2fa", type=click.Choice(["on", "off"]))
@click.option(
    "--internal-sharing",
    type=click.Choice(["on", "off"]),
    help="Whether members may share files with colleagues and groups.",
)
def set_policy(org_name: str, require_2fa: str | None, internal_sharing: str | None) -> None:
    """Change an organisation's policy."""
    if require_2fa is None and internal_sharing is None:
        fail("give --require-2fa or --internal-sharing (on or off)", EXIT_INVALID)
    actor = operator()
    with admin_services() as services, domain_errors():
        org = services.organisations.find_by_name(actor, org_name)
        if require_2fa is not None:
            org = services.organisations.set_second_factor_requirement(
                actor, organization_id=org.id, required=_on_off(require_2fa), client=_CLIENT
            )
        if internal_sharing is not None:
            org = services.organisations.update_policy(
                actor,
                organization_id=org.id,
                client=_CLIENT,
                internal_sharing_allowed=_on_off(internal_sharing),
            )
    if require_2fa is not None:
        state = "required" if org.require_second_factor else "not required"
        click.echo(f"Two-factor authentication is now {state} in {org.name!r}.")
    if internal_sharing is not None:
        state = "allowed" if org.internal_sharing_allowed else "not allowed"
        click.echo(f"Sharing with colleagues is now {state} in {org.name!r}.")


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


for _storage_command in admin_storage.COMMANDS:  # gc, fsck, rotate-master-key
    admin.add_command(_storage_command)
admin.add_command(admin_jobs.jobs)

for _backup_command in admin_backup.COMMANDS:  # backup, restore, mark-restored
    admin.add_command(_backup_command)
