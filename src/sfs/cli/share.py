"""`sfs share link PATH`, `sfs share list`, `sfs share revoke ID`: share links from the command
line, through the REST API with the token saved by `sfs login`."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import date

import click

from sfs.cli.exit_codes import EXIT_INVALID
from sfs.cli.files import _remote_path, fail, logged_in, say
from sfs.client.links import create_link, list_links, revoke_link


@click.group()
def share() -> None:
    """Share files and folders with links."""


@share.command("link")
@click.argument("path")
@click.option(
    "--password-stdin", is_flag=True, help="Read the link's password from standard input."
)
@click.option("--expires", metavar="YYYY-MM-DD", help="The last day the link works (UTC).")
@click.option("--max-downloads", type=click.IntRange(1, 1_000_000), help="Downloads allowed.")
@click.option("--upload-only", is_flag=True, help="A file drop: visitors add files, see nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the link as JSON.")
def link(
    path: str,
    password_stdin: bool,
    expires: str | None,
    max_downloads: int | None,
    upload_only: bool,
    as_json: bool,
) -> None:
    """Make a link to PATH in My Files and print its URL."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("no password on standard input", EXIT_INVALID)
    expires_on = None
    if expires is not None:
        try:
            expires_on = date.fromisoformat(expires)
        except ValueError:
            fail(f"--expires: {expires!r} is not a date like 2026-12-31", EXIT_INVALID)
    with logged_in() as api:
        created = create_link(
            api,
            _remote_path(path),
            password=password,
            expires=expires_on,
            max_downloads=max_downloads,
            upload_only=upload_only,
        )
    if as_json:
        click.echo(json.dumps(created, sort_keys=True))
    else:
        click.echo(created["url"])


@share.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the links as JSON.")
def list_command(as_json: bool) -> None:
    """List your links, newest first."""
    with logged_in() as api:
        links = list_links(api)
    if as_json:
        click.echo(json.dumps(links, sort_keys=True))
        return
    for item in links:
        expires = (item.get("expires_at") or "never")[:10]
        say(
            f"{item['id']}  {item['state']:<9}  {expires:<10}  "
            f"{item['download_count']:>5} downloads  {item['path']}"
        )


@share.command("revoke")
@click.argument("link_id")
def revoke(link_id: str) -> None:
    """End the link LINK_ID at once."""
    try:
        uuid.UUID(link_id)
    except ValueError:
        fail(f"{link_id!r} is not a link id (see sfs share list)", EXIT_INVALID)
    with logged_in() as api:
        revoke_link(api, link_id)
    say(f"revoked {link_id}")
