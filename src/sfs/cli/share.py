"""`sfs share link PATH`, `sfs share add PATH --with WHO`, `sfs share list`, `sfs share edit
ID`, `sfs share revoke ID`: share links and shares with colleagues from the command line, through
the REST API with the token saved by `sfs login`."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import date
from typing import Any

import click

from sfs.cli.files import EXIT_INVALID, _remote_path, fail, logged_in, say
from sfs.client.api import ApiError
from sfs.client.links import create_link, list_links, revoke_link, update_link
from sfs.client.shares import add_share, list_shares, remove_share


@click.group()
def share() -> None:
    """Share files and folders with links, colleagues and groups."""


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
    expires_on = None if expires is None else _day(expires)
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


@share.command("add")
@click.argument("path")
@click.option(
    "--with", "recipient", required=True, metavar="EMAIL|GROUP", help="A colleague or a group."
)
@click.option(
    "--role", type=click.Choice(["viewer", "editor"]), default="viewer", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Print the share as JSON.")
def add(path: str, recipient: str, role: str, as_json: bool) -> None:
    """Share PATH in My Files with a colleague (by email) or a group (by name)."""
    if not recipient.strip():
        fail("--with: name a colleague's email or a group", EXIT_INVALID)
    with logged_in() as api:
        made = add_share(api, _remote_path(path), recipient=recipient.strip(), role=role)
    if as_json:
        click.echo(json.dumps(made, sort_keys=True))
    else:
        say(f"shared {made['path']} with {made['recipient']} as {made['role']} ({made['id']})")


@share.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print links and shares as JSON.")
def list_command(as_json: bool) -> None:
    """List your links, newest first, then your shares with colleagues and groups."""
    with logged_in() as api:
        links = list_links(api)
        shares = list_shares(api)
    if as_json:
        items = [{**item, "type": "link"} for item in links]
        items += [{**item, "type": "share"} for item in shares]
        click.echo(json.dumps(items, sort_keys=True))
        return
    for item in links:
        expires = (item.get("expires_at") or "never")[:10]
        say(
            f"{item['id']}  {item['state']:<9}  {expires:<10}  "
            f"{item['download_count']:>5} downloads  {item['path']}"
        )
    for item in shares:
        say(f"{item['id']}  {item['role']:<9}  {item['recipient']}  {item['path']}")


@share.command("edit")
@click.argument("link_id")
@click.option("--password-stdin", is_flag=True, help="Read a new password from standard input.")
@click.option("--no-password", is_flag=True, help="Remove the link's password.")
@click.option("--expires", metavar="YYYY-MM-DD", help="The new last day the link works (UTC).")
@click.option("--no-expiry", is_flag=True, help="The link no longer expires.")
@click.option("--max-downloads", type=click.IntRange(1, 1_000_000), help="A new download limit.")
@click.option("--no-download-limit", is_flag=True, help="Remove the download limit.")
@click.option(
    "--upload-only/--no-upload-only", default=None, help="Make a folder link a file drop, or not."
)
@click.option(
    "--can-edit/--no-can-edit", default=None, help="Let visitors add files to a folder, or not."
)
@click.option("--json", "as_json", is_flag=True, help="Print the changed link as JSON.")
def edit(
    link_id: str,
    password_stdin: bool,
    no_password: bool,
    expires: str | None,
    no_expiry: bool,
    max_downloads: int | None,
    no_download_limit: bool,
    upload_only: bool | None,
    can_edit: bool | None,
    as_json: bool,
) -> None:
    """Change the link LINK_ID; only what you give changes."""
    _link_id(link_id)
    for given, removed, names in (
        (password_stdin, no_password, "--password-stdin and --no-password"),
        (expires is not None, no_expiry, "--expires and --no-expiry"),
        (max_downloads is not None, no_download_limit, "--max-downloads and --no-download-limit"),
    ):
        if given and removed:
            fail(f"give only one of {names}", EXIT_INVALID)
    changes: dict[str, Any] = {}
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("no password on standard input", EXIT_INVALID)
        changes["password"] = password
    if no_password:
        changes["password"] = None
    if expires is not None:
        changes["expires"] = _day(expires).isoformat()
    if no_expiry:
        changes["expires"] = None
    if max_downloads is not None or no_download_limit:
        changes["max_downloads"] = max_downloads
    if upload_only is not None:
        changes["upload_only"] = upload_only
    if can_edit is not None:
        changes["can_edit"] = can_edit
    if not changes:
        fail("nothing to change: give an option (see sfs share edit --help)", EXIT_INVALID)
    with logged_in() as api:
        changed = update_link(api, link_id, changes)
    if as_json:
        click.echo(json.dumps(changed, sort_keys=True))
    else:
        say(f"changed {link_id}")


@share.command("revoke")
@click.argument("share_id")
def revoke(share_id: str) -> None:
    """End the link, or remove the share with a colleague or group, SHARE_ID at once."""
    try:
        uuid.UUID(share_id)
    except ValueError:
        fail(f"{share_id!r} is not a link or share id (see sfs share list)", EXIT_INVALID)
    with logged_in() as api:
        try:
            revoke_link(api, share_id)
        except ApiError as problem:
            if problem.status != 404:
                raise
            remove_share(api, share_id)  # not a link: a share, or nothing (404 again)
            say(f"removed share {share_id}")
            return
    say(f"revoked {share_id}")


def _link_id(text: str) -> None:
    try:
        uuid.UUID(text)
    except ValueError:
        fail(f"{text!r} is not a link id (see sfs share list)", EXIT_INVALID)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--expires: {text!r} is not a date like 2026-12-31", EXIT_INVALID)
