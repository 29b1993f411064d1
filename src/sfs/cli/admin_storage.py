"""`sfs admin gc`, `sfs admin fsck`, `sfs admin rotate-master-key`: the chunk store's upkeep."""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from sfs.cli.common import admin_services, domain_errors, fail
from sfs.cli.exit_codes import EXIT_FAILURE
from sfs.client.printable import printable

if TYPE_CHECKING:  # the server's code loads only when an admin command runs
    from sfs.app import Services
    from sfs.services.storage.maintenance import StorageMaintenance

_DURATION = re.compile(r"(\d+)\s*([smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """`90`, `90s`, `30m`, `1h`, `2d` as a duration."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise click.BadParameter("give a duration such as 0, 90s, 30m, 1h or 2d")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{count} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _maintenance(services: Services) -> StorageMaintenance:
    from sfs.services.storage.maintenance import StorageMaintenance

    return StorageMaintenance(
        services.database, services.chunk_store, services.keyring, services.clock
    )


@click.command("gc")
@click.option(
    "--grace",
    default="1h",
    show_default=True,
    help="Leave chunks and packs younger than this alone (uploads in flight). "
    "0 is safe only while the service is stopped.",
)
def gc(grace: str) -> None:
    """Apply version retention, drop chunked uploads idle for a day and expired login flows,
    then delete chunks no file version references, and packs that hold nothing live."""
    period = parse_duration(grace)
    with admin_services() as services, domain_errors():
        pruned = services.retention.apply_everywhere()
        abandoned = services.upload_sessions.drop_idle()
        services.login_flows.drop_expired()
        report = _maintenance(services).collect_garbage(grace=period)
    if pruned:
        click.echo(f"Removed {pruned} old version(s) past the retention policy.")
    if abandoned:
        click.echo(f"Dropped {abandoned} chunked upload(s) nobody touched for a day.")
    click.echo(
        f"Deleted {report.chunks_deleted} unreferenced chunk(s) "
        f"({human_bytes(report.chunk_bytes_deleted)}) and {report.packs_deleted} pack(s) "
        f"({human_bytes(report.pack_bytes_deleted)}), {report.orphan_packs_deleted} of them "
        "left behind by interrupted uploads."
    )
    if report.young_packs_kept:
        click.echo(
            f"Kept {report.young_packs_kept} pack(s) no chunk names yet, younger than the grace "
            f"period ({grace}): uploads in progress."
        )
    if report.chunks_restored:
        click.echo(
            f"Kept {report.chunks_restored} chunk(s) that a commit started to use meanwhile."
        )
    if report.partly_used_packs:
        click.echo(
            f"{report.partly_used_packs} pack(s) still hold live chunks beside dead ones: "
            f"{human_bytes(report.reclaimable_bytes)} reclaimable by repacking "
            "(not done by this version of sfs)."
        )
    for pack_id in report.unreadable_packs:
        click.echo(f"Pack {pack_id} could not be read; run `sfs admin fsck`.", err=True)


@click.command("fsck")
def fsck() -> None:
    """Verify every stored chunk and pack; name every file version that is damaged."""
    with admin_services() as services, domain_errors():
        report = _maintenance(services).check()
    click.echo(
        f"Checked {report.chunks_checked} chunk(s) ({human_bytes(report.bytes_checked)}) "
        f"in {report.packs_checked} pack(s)."
    )
    for version in report.damaged_versions:
        click.echo(printable(f"DAMAGED {version.describe()}"))  # a file's name, escaped
    for problem in report.pack_problems:
        click.echo(f"PACK    {problem}")
    if report.orphan_packs:
        click.echo(
            f"{len(report.orphan_packs)} pack(s) are named by no chunk (left by interrupted "
            "uploads, or in use by one right now); `sfs admin gc` removes them after its "
            "grace period."
        )
    if report.clean:
        click.echo("No damage found.")
        return
    click.echo(
        f"sfs: {report.damaged_chunks} damaged or missing chunk(s), "
        f"{len(report.damaged_versions)} file version(s) affected, "
        f"{len(report.pack_problems)} pack problem(s).",
        err=True,
    )
    sys.exit(EXIT_FAILURE)


@click.command("rotate-master-key")
def rotate_master_key_command() -> None:
    """Replace the master key; re-wrap organisation keys and re-seal TOTP secrets under it.

    Stop the service on every instance first, and start it again afterwards: a running instance
    still holds the old key.
    """
    from sfs.services.storage.master_key_rotation import RotationError, rotate_master_key

    with admin_services() as services, domain_errors():
        key_path = services.settings.master_key_path
        try:
            report = rotate_master_key(
                database=services.database,
                key_path=key_path,
                clock=services.clock,
                randomness=services.randomness,
            )
        except RotationError as error:
            fail(str(error), EXIT_FAILURE)
            return
    if report.completed_interrupted:
        click.echo(f"Finished an interrupted rotation: {key_path} now holds the new master key.")
        return
    click.echo(
        f"Rotated the master key in {key_path}: re-wrapped the keys of "
        f"{report.organisations} organisation(s), re-sealed {report.totp_secrets} "
        f"authenticator secret(s), closed {report.email_codes_closed} open email code(s)."
    )
    click.echo(
        f"The old key is kept in {report.old_key_copy} (mode 0600) for your backups' sake: "
        "delete it once backups made before now are no longer needed. "
        "Start the service again so that it uses the new key."
    )


COMMANDS = (gc, fsck, rotate_master_key_command)
