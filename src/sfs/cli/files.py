"""`sfs login`, `ls`, `put`, `get`, … : the command line as a client of the REST API.

Talks to the server only through `sfs.client` (never the server's services), with the device
token saved by `sfs login`. Every failure is one line on standard error and an exit code.
"""

from __future__ import annotations

import getpass
import json
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import click

from sfs.cli.exit_codes import (
    EXIT_CONFLICT,
    EXIT_DENIED,
    EXIT_EXISTS,
    EXIT_FAILURE,
    EXIT_INVALID,
    EXIT_NOT_FOUND,
)
from sfs.cli.std_streams import STANDARD_STREAM, stdin_as_file, write_to_stdout
from sfs.client import credentials
from sfs.client.api import ApiClient, ApiError, LoginOutcome, RemoteNode, client_user_agent
from sfs.client.credentials import Credentials, CredentialsError
from sfs.client.local_paths import UnsafePath, local_path
from sfs.client.printable import printable
from sfs.client.progress import TerminalProgress
from sfs.client.sync.remote import SyncApi
from sfs.client.transfer import RemoteChanged, TransferError, download_file, upload_file
from sfs.protocol.paths import BadName, join_path, split_path
from sfs.protocol.sizes import byte_size

USER_AGENT = client_user_agent("sfs-client")
LOG_IN_AGAIN = "log in again with sfs login"
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def fail(message: str, code: int) -> NoReturn:
    say(f"sfs: {message}", err=True)
    sys.exit(code)


def say(line: str, *, err: bool = False) -> None:
    """A line for people: names in it (from the server, or a folder) printed safely."""
    click.echo(printable(line), err=err)


# --- login -------------------------------------------------------------------------------------


@click.command()
@click.argument("url")
@click.option("--email", help="The account's email (asked for when not given).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--code", help="The second-factor code, when the account has one.")
@click.option("--device-name", help="How this device is listed in the portal.")
def login(
    url: str,
    email: str | None,
    password_stdin: bool,
    code: str | None,
    device_name: str | None,
) -> None:
    """Log in to the server at URL and keep a device token (never the password)."""
    server_url = _server_url(url)
    if email is None:
        if password_stdin or not sys.stdin.isatty():
            fail("give --email when the password comes from standard input", EXIT_INVALID)
        email = click.prompt("Email").strip()
    password = _read_secret("Password: ", from_stdin=password_stdin)
    device = device_name or f"sfs on {socket.gethostname()}"[:100]
    previous = _load_credentials()

    with ApiClient(server_url, user_agent=USER_AGENT) as api, api_errors(server_url):
        try:
            outcome = api.login(email=email, password=password, device_name=device)
        except ApiError as exc:
            if exc.code == "second_factor_enrolment_required":
                fail(exc.message, EXIT_DENIED)
            raise
        if outcome.token is None:
            outcome = _second_factor(api, outcome, code=code, device_name=device)
    assert outcome.token is not None

    path = credentials.save(
        credentials.config_dir(),
        Credentials(
            server_url=server_url,
            token=outcome.token,
            email=email,
            device_name=device,
            device_id=outcome.device_id,
        ),
    )
    if previous is not None and previous.server_url == server_url:
        _revoke_quietly(previous)
    credentials.forget_wiped(credentials.config_dir(), server_url)
    say(f"Logged in to {server_url} as {email} (device {device!r}); token in {path}.")


def _server_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail(f"{url!r} is not a server address such as https://files.example.com", EXIT_INVALID)
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        say(
            "sfs: warning: plain http sends your password and token unencrypted; use https",
            err=True,
        )
    return url.strip().rstrip("/")


def _read_secret(prompt: str, *, from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            fail("no password on standard input", EXIT_INVALID)
        return line.removesuffix("\n").removesuffix("\r")
    if not sys.stdin.isatty():
        fail("give --password-stdin to read the password from standard input", EXIT_INVALID)
    return getpass.getpass(prompt)


def _second_factor(
    api: ApiClient, outcome: LoginOutcome, *, code: str | None, device_name: str
) -> LoginOutcome:
    assert outcome.challenge is not None
    interactive = code is None and sys.stdin.isatty()
    if outcome.method == "email":
        # Right after another login the server sends none (throttled): the last one still works,
        # and the server says when it was sent and until when it is valid.
        say(
            printable(outcome.message)
            or "Check your email for the code (the latest email, if you have several).",
            err=True,
        )
        ask = "Code from the email (r to send a new one)"
    else:
        ask = "Code from your authenticator app (or your backup key)"
    for attempt in range(3 if interactive else 1):
        answer = code if code is not None else _read_code(ask, interactive)
        if interactive and outcome.method == "email" and answer.lower() == "r":
            try:
                api.resend_email_code(challenge=outcome.challenge)
            except ApiError as exc:
                if exc.status != 429:
                    raise
                say(f"sfs: {exc.message} The code in the latest email still works.", err=True)
                continue
            say("A new code was sent.", err=True)
            continue
        try:
            return api.answer_second_factor(
                challenge=outcome.challenge, code=answer, device_name=device_name
            )
        except ApiError as exc:
            if not interactive or exc.code != "invalid_code" or attempt == 2:
                raise
            say(f"sfs: {exc.message}", err=True)
    fail("no valid second-factor code", EXIT_DENIED)


def _read_code(prompt: str, interactive: bool) -> str:
    if interactive:
        return str(click.prompt(prompt)).strip()
    line = sys.stdin.readline()
    if not line.strip():
        fail("the account needs a second-factor code: give --code", EXIT_INVALID)
    return line.strip()


def _revoke_quietly(previous: Credentials) -> None:
    """A new login replaces the old token here, so the old one should not stay valid."""
    with (
        ApiClient(previous.server_url, token=previous.token, user_agent=USER_AGENT) as api,
        suppress(ApiError),
    ):
        api.logout()


@click.command()
def logout() -> None:
    """Revoke this device's token on the server and forget it here."""
    saved = _load_credentials()
    folder = credentials.config_dir()
    if saved is None:
        say("Not logged in.")
        return
    with ApiClient(saved.server_url, token=saved.token, user_agent=USER_AGENT) as api:
        try:
            api.logout()
        except ApiError as exc:
            if exc.status != 401:  # a revoked token is as good as logged out
                credentials.remove(folder)
                fail(
                    f"forgot the token here, but could not revoke it ({exc.message}): "
                    f"revoke the device {saved.device_name!r} in the portal",
                    EXIT_FAILURE,
                )
    credentials.remove(folder)
    say(f"Logged out of {saved.server_url}.")


# --- files -------------------------------------------------------------------------------------


@click.command("ls")
@click.argument("path", default="/")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_files(path: str, as_json: bool) -> None:
    """List a folder of My Files (or show one file)."""
    remote = _remote_path(path)
    with logged_in() as api:
        node = None if remote == "/" else api.stat(remote)
        nodes = [node] if node is not None and not node.is_folder else api.list_folder(remote)
    if as_json:
        click.echo(json.dumps([_node_json(n) for n in nodes], indent=2))
        return
    if not nodes:
        say(f"{remote} is empty.")
        return
    for n in nodes:
        name = f"{n.name}/" if n.is_folder else n.name
        size = "-" if n.is_folder else byte_size(n.size)
        say(f"{size:>10}  {_when(n.modified_at)}  {name}")


@click.command()
@click.argument("local", type=click.Path(path_type=Path))
@click.argument("remote", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def put(local: Path, remote: str | None, as_json: bool) -> None:
    """Upload LOCAL to REMOTE (default: its name at the top of My Files), sending only changes.

    An existing REMOTE folder (or a REMOTE ending in /) receives the file under its own name.
    LOCAL `-` reads standard input; REMOTE then names the file.
    """
    if str(local) == STANDARD_STREAM:
        if remote is None or remote.endswith("/") or _remote_path(remote) == "/":
            fail("give the file's name on the server: sfs put - PATH", EXIT_INVALID)
        target = _remote_path(remote)
        with stdin_as_file(split_path(target)[-1]) as copy:
            _put(copy, target, remote, as_json, into_folder=False)
        return
    if not local.exists():
        fail(f"{local}: no such file", EXIT_INVALID)
    if local.is_dir():
        fail(f"{local} is a folder; sfs put sends one file", EXIT_INVALID)
    if not local.is_file():
        fail(f"{local} is not a regular file", EXIT_INVALID)
    _put(local, _remote_path(remote or "/"), remote, as_json)


def _put(
    local: Path, target: str, remote: str | None, as_json: bool, *, into_folder: bool = True
) -> None:
    """Upload `local` as `target`; with `into_folder`, into `target` when that is a folder."""
    with logged_in() as api:
        # Standard input has no name of its own (not into_folder): `target` is the file.
        if into_folder and (remote is None or remote.endswith("/") or target == "/"):
            target = _child(target, local.name)
        elif into_folder:
            existing = api.stat_or_none(target)
            if existing is not None and existing.is_folder:
                target = _child(target, local.name)
        saved = _load_credentials()
        result = upload_file(
            api,
            local,
            target,
            device_name=saved.device_name if saved else None,
            progress=TerminalProgress(),
        )
    if as_json:
        summary = {
            **_node_json(result.node),
            "chunks": result.chunks,
            "chunks_sent": result.chunks_sent,
            "bytes_sent": result.bytes_sent,
        }
        click.echo(json.dumps(summary, indent=2))
        return
    say(
        f"Uploaded {result.node.path} (version {result.node.version}, "
        f"{byte_size(result.size)}): sent {result.chunks_sent} of {result.chunks} chunks, "
        f"{byte_size(result.bytes_sent)}."
    )


@click.command()
@click.argument("remote")
@click.argument("local", required=False, type=click.Path(path_type=Path))
@click.option("--version", "version", type=click.IntRange(min=1), help="An older version.")
def get(remote: str, local: Path | None, version: int | None) -> None:
    """Download REMOTE to LOCAL (default: its name in the current folder; `-`: standard
    output)."""
    source = _remote_path(remote)
    if source == "/":
        fail("give a file to download, not the top folder", EXIT_INVALID)
    if local is not None and str(local) == STANDARD_STREAM:
        with logged_in() as api:
            write_to_stdout(api, source, version=version)
        return
    name = "/" + split_path(source)[-1]
    # The file's own name is written only where it is proven to stay inside the folder.
    destination = _inside(Path.cwd(), name) if local is None else local
    if destination.is_dir():
        destination = _inside(destination, name)
    if not destination.parent.is_dir():
        fail(f"{destination.parent}: no such folder", EXIT_INVALID)
    with logged_in() as api:
        result = download_file(
            api, source, destination, version=version, progress=TerminalProgress()
        )
    which = f" version {version}" if version else ""
    say(f"Downloaded {result.node.path}{which} to {result.path} ({byte_size(result.size)}).")


@click.command()
@click.argument("path")
@click.option("-p", "--parents", is_flag=True, help="Create missing parent folders too.")
def mkdir(path: str, parents: bool) -> None:
    """Create a folder."""
    remote = _remote_path(path)
    if remote == "/":
        fail("the top folder exists already", EXIT_EXISTS)
    with logged_in() as api:
        if parents:
            parts = split_path(remote)
            for depth in range(1, len(parts) + 1):
                prefix = join_path(parts[:depth])
                existing = api.stat_or_none(prefix)
                if existing is None:
                    api.create_folder(prefix)
                elif not existing.is_folder:
                    fail(f"{prefix} is a file", EXIT_EXISTS)
        else:
            api.create_folder(remote)
    say(f"Created {remote}/")


@click.command()
@click.argument("source")
@click.argument("target")
def mv(source: str, target: str) -> None:
    """Move or rename SOURCE to TARGET (into TARGET when it is a folder)."""
    origin, destination = _remote_path(source), _remote_path(target)
    with logged_in() as api:
        existing = api.stat_or_none(destination)
        if existing is not None and existing.is_folder:
            destination = _child(destination, split_path(origin)[-1] if origin != "/" else "")
        node = api.move(origin, destination)
    say(f"Moved {origin} to {node.path}.")


@click.command()
@click.argument("path")
def rm(path: str) -> None:
    """Move a file or folder to the trash (restore it with sfs restore)."""
    remote = _remote_path(path)
    if remote == "/":
        fail("the top folder cannot be removed", EXIT_INVALID)
    with logged_in() as api:
        api.delete(remote)
    say(f"Moved {remote} to the trash.")


@click.command()
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def versions(path: str, as_json: bool) -> None:
    """List a file's versions, newest first."""
    remote = _remote_path(path)
    with logged_in() as api:
        found = sorted(api.versions(remote), key=lambda v: v.number, reverse=True)
    if as_json:
        rows = [
            {
                "number": v.number,
                "size": v.size,
                "modified_at": v.modified_at.isoformat(),
                "created_at": v.created_at.isoformat(),
                "device_name": v.device_name,
                "current": v.current,
            }
            for v in found
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    for v in found:
        mark = "current" if v.current else ""
        device = v.device_name or "-"
        say(f"{v.number:>5}  {byte_size(v.size):>10}  {_when(v.created_at)}  {device}  {mark}")


@click.command()
@click.argument("path")
@click.option(
    "--version", "number", type=click.IntRange(min=1), help="Default: the one before the current."
)
def restore(path: str, number: int | None) -> None:
    """Bring back an older version of PATH, or PATH from the trash when it was removed."""
    remote = _remote_path(path)
    with logged_in() as api:
        node = api.stat_or_none(remote)
        if node is None:
            if number is not None:
                fail(f"{remote} does not exist (restore it from the trash first)", EXIT_NOT_FOUND)
            trashed = [n for n in api.trash() if n.path == remote]
            if not trashed:
                fail(f"{remote} is neither in My Files nor in the trash", EXIT_NOT_FOUND)
            latest = max(trashed, key=lambda n: n.deleted_at or n.modified_at)
            restored = api.restore_from_trash(latest.id)
            say(f"Restored {restored.path} from the trash.")
            return
        if number is None:
            older = [v.number for v in api.versions(remote) if not v.current]
            if not older:
                fail(f"{remote} has no older version", EXIT_NOT_FOUND)
            number = max(older)
        restored = api.restore_version(remote, number)
    say(f"Restored version {number} of {restored.path} (now version {restored.version}).")


COMMANDS = [login, logout, list_files, put, get, mkdir, mv, rm, versions, restore]


# --- plumbing ----------------------------------------------------------------------------------


def _load_credentials() -> Credentials | None:
    try:
        return credentials.load(credentials.config_dir())
    except CredentialsError as exc:
        fail(str(exc), EXIT_FAILURE)


@contextmanager
def logged_in() -> Iterator[SyncApi]:
    """An API client with the saved token; every failure inside becomes a one-line exit. The
    sync client's (`SyncApi`): `put` and `get` move files the way `sfs sync` does."""
    saved = _load_credentials()
    if saved is None:
        fail("not logged in: log in with sfs login URL", EXIT_DENIED)
    with (
        api_errors(saved.server_url),
        SyncApi(saved.server_url, token=saved.token, user_agent=USER_AGENT) as api,
    ):
        yield api


@contextmanager
def api_errors(server_url: str) -> Iterator[None]:
    try:
        yield
    except ApiError as exc:
        fail(*_explain(exc, server_url))
    except RemoteChanged as exc:
        fail(str(exc), EXIT_CONFLICT)
    except TransferError as exc:
        fail(str(exc), EXIT_FAILURE)
    except BadName as exc:
        fail(str(exc), EXIT_INVALID)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}", EXIT_FAILURE)


def _explain(exc: ApiError, server_url: str) -> tuple[str, int]:
    if exc.unreachable:
        return exc.message, EXIT_FAILURE
    if exc.status == 401 and exc.code in ("not_authenticated", "http_401"):
        return (
            f"not logged in to {server_url} (the token was revoked or has expired): {LOG_IN_AGAIN}",
            EXIT_DENIED,
        )
    codes = {401: EXIT_DENIED, 403: EXIT_DENIED, 404: EXIT_NOT_FOUND, 409: EXIT_EXISTS}
    code = codes.get(exc.status or 0, EXIT_INVALID if exc.status == 422 else EXIT_FAILURE)
    return exc.message, code


def _remote_path(raw: str) -> str:
    try:
        return join_path(split_path(raw))
    except BadName as exc:
        fail(str(exc), EXIT_INVALID)


def _inside(folder: Path, name: str) -> Path:
    try:
        return local_path(folder, name)
    except UnsafePath as refused:
        fail(str(refused), EXIT_INVALID)


def _child(folder: str, name: str) -> str:
    return folder.rstrip("/") + "/" + name


def _node_json(node: RemoteNode) -> dict[str, Any]:
    return {
        "path": node.path,
        "name": node.name,
        "kind": node.kind,
        "size": node.size,
        "modified_at": node.modified_at.isoformat(),
        "version": node.version,
        "etag": node.etag,
    }


def _when(moment: datetime) -> str:
    with suppress(OverflowError, ValueError):  # at the very ends of the calendar: UTC
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")
