"""`sfs sync DIR` keeps a folder and My Files identical; `sfs status DIR` says what is pending."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from sfs.cli.exit_codes import EXIT_DENIED, EXIT_FAILURE, EXIT_INVALID, EXIT_WIPED
from sfs.cli.sync_output import UNREACHABLE, ProblemLog, sentence, start_line, summary
from sfs.client.api import MY_FILES, ApiError, client_user_agent
from sfs.client.credentials import (
    Credentials,
    CredentialsError,
    config_dir,
    load,
    remember_wiped,
    remove,
    wiped_servers,
)
from sfs.client.printable import printable
from sfs.client.progress import JsonProgress, SyncProgressDisplay
from sfs.client.sync.engine import SyncEngine
from sfs.client.sync.errors import BoundElsewhere
from sfs.client.sync.ignore import STATE_FOLDER, Ignorer
from sfs.client.sync.index import LocalIndex
from sfs.client.sync.remote import SyncApi
from sfs.client.sync.report import PassProgress, Report
from sfs.client.sync.scanner import scan
from sfs.client.sync.watch import Wakeup, watch_folder, watch_server
from sfs.client.sync.wipe import RemoteWipe, WipeReport, wipe_started
from sfs.protocol.devices import DEVICE_WIPED

FULL_SCAN_SECONDS = 60.0
RETRY_SECONDS = (1, 2, 5, 10, 30, 60)
REVOKED = "sfs: the server refused this device: log in again with sfs login"


class Wiped(Exception):
    """The server answered `device_wiped`: this device is to erase what it synced."""


def _saved() -> Credentials:
    try:
        saved = load(config_dir())
    except CredentialsError as exc:
        raise click.ClickException(str(exc)) from None
    if saved is None:
        click.echo("sfs: not logged in: run sfs login URL first", err=True)
        sys.exit(EXIT_DENIED)
    return saved


def _api(saved: Credentials, space: str = MY_FILES) -> SyncApi:
    return SyncApi(
        saved.server_url,
        token=saved.token,
        user_agent=client_user_agent("sfs-sync"),
        space=space,
    )


def _folder_or_exit(folder: Path, *, create: bool) -> None:
    """A mistyped folder is refused, not made (and then filled with the whole space)."""
    if folder.is_dir():
        return
    if folder.exists():
        click.echo(printable(f"sfs: {folder} is not a folder"), err=True)
        sys.exit(EXIT_INVALID)
    if not create:
        click.echo(
            printable(f"sfs: {folder} does not exist: check the name, or give --create to make it"),
            err=True,
        )
        sys.exit(EXIT_INVALID)
    try:
        folder.mkdir(parents=True)
    except OSError as exc:
        click.echo(printable(f"sfs: cannot create {folder}: {exc.strerror or exc}"), err=True)
        sys.exit(EXIT_FAILURE)


@click.command("sync")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--once", is_flag=True, help="One full pass, then exit (0 when both sides match).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON event per line.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors (for running as a service).")
@click.option("--space", "space_name", help="The space to keep in sync (default: My Files).")
@click.option("--create", is_flag=True, help="Create FOLDER when it does not exist.")
def sync(
    folder: Path, once: bool, as_json: bool, quiet: bool, space_name: str | None, create: bool
) -> None:
    """Keep FOLDER and a space (your My Files unless --space) identical, both ways."""
    _folder_or_exit(folder, create=create)
    if wipe_started(folder):  # a wipe cut short: finished before anything else
        _wipe(folder)
    if _synced_with_a_wiped_login(folder):  # another folder heard of the wipe first
        _wipe(folder, reported=True)

    def on_event(event: dict[str, Any]) -> None:
        if as_json:
            click.echo(json.dumps(event))
        elif not quiet and (line := sentence(event)) is not None:
            click.echo(line)

    progress: PassProgress | None = None
    if as_json:
        progress = JsonProgress(on_event)
    elif not quiet:
        progress = SyncProgressDisplay()  # on a terminal, for passes longer than a second
    saved = _saved()
    api = _api(saved)
    try:
        space = api.use_space(space_name)
    except ApiError as exc:
        api.close()
        if exc.status == 401 and exc.code == DEVICE_WIPED:
            _wipe(folder)
        if exc.status == 401:
            click.echo(REVOKED, err=True)
            sys.exit(EXIT_DENIED)
        click.echo(printable(f"sfs: {exc.message}"), err=True)
        sys.exit(EXIT_INVALID if exc.status == 404 else EXIT_FAILURE)
    if not as_json and not quiet:
        click.echo(start_line(folder, saved.server_url, space.name, once=once))
    # Conflicted copies are named after this device as it logged in (sfs login --device-name).
    engine = SyncEngine(folder, api, device=saved.device_name, on_event=on_event, progress=progress)
    problems = ProblemLog()
    wiped = False
    try:
        if once:
            try:
                report = _pass(engine, problems, as_json=as_json, quiet=quiet)
            except (ApiError, OSError) as exc:  # server away, or the folder itself unreadable
                reason = exc.message if isinstance(exc, ApiError) else _unreadable(exc)
                click.echo(printable(f"sfs: {reason}"), err=True)
                sys.exit(EXIT_FAILURE)
            sys.exit(EXIT_FAILURE if report.failed else 0)
        _run(engine, saved, problems, as_json=as_json, quiet=quiet)
    except BoundElsewhere as exc:
        click.echo(printable(f"sfs: {exc}"), err=True)
        sys.exit(EXIT_INVALID)
    except Wiped:
        wiped = True
    finally:
        engine.close()  # the index is closed before a wipe removes it
        api.close()
    if wiped:
        _wipe(folder)


def _pass(engine: SyncEngine, problems: ProblemLog, *, as_json: bool, quiet: bool) -> Report:
    try:
        report = engine.sync_once()
    except ApiError as exc:
        if exc.status == 401 and exc.code == DEVICE_WIPED:
            raise Wiped() from None
        if exc.status == 401:
            click.echo(REVOKED, err=True)
            sys.exit(EXIT_DENIED)
        raise
    totals = {
        "event": "pass",
        "uploaded": report.uploaded,
        "downloaded": report.downloaded,
        "deleted": report.deleted_local + report.deleted_remote,
        "moved": report.moved,
        "conflicts": report.conflicts,
        "bytes_sent": report.bytes_sent,
        "bytes_sent_total": report.bytes_sent_total,
        "bytes_received": report.bytes_received,
        "bytes_resumed": report.bytes_resumed,
        "failed": len(report.failed),
    }
    if as_json:
        click.echo(json.dumps(totals))
    elif not quiet and report.changed_anything:
        click.echo(summary(report))
    problems.after_pass(report)  # each warning and failure said once, while it lasts
    return report


def _run(
    engine: SyncEngine, saved: Credentials, problems: ProblemLog, *, as_json: bool, quiet: bool
) -> None:
    wakeup = Wakeup()
    cursor = [engine.cursor]
    observer = watch_folder(engine.root, wakeup)
    watch_server(lambda: _api(saved, engine.api.space), cursor, wakeup)
    failures = 0
    try:
        while True:
            try:
                wakeup.pass_begins()
                try:
                    _pass(engine, problems, as_json=as_json, quiet=quiet)
                finally:
                    cursor[0] = engine.feed_head  # the server watcher asks for news after it
                    wakeup.pass_ended()
                failures = 0
                wakeup.wait(FULL_SCAN_SECONDS)
                time.sleep(0.05)  # let a burst of file events settle into one pass
            except (ApiError, OSError) as exc:  # server away, or the folder itself unreadable
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                if isinstance(exc, ApiError):
                    kind = UNREACHABLE if exc.unreachable else exc.message
                    problems.server_away(exc.message, kind=kind)
                else:
                    problems.server_away(_unreadable(exc))
                wakeup.wait(delay)
    except KeyboardInterrupt:
        pass
    finally:
        wakeup.stopping = True
        observer.stop()


def _wipe(folder: Path, *, reported: bool = False) -> None:
    """Erase what the folder synced, its index and the saved login, tell the server, and exit
    EXIT_WIPED. Runs when the server says so, and at every start until it has finished; with
    `reported`, for a folder of a login whose wipe another folder has already reported."""
    if reported:
        report = RemoteWipe(folder, api=None, forget_login=lambda: None).run()
        _say_wiped(folder, report)
        sys.exit(EXIT_WIPED)
    try:
        saved = load(config_dir())
    except CredentialsError:
        saved = None
    api = (
        None
        if saved is None
        else SyncApi(saved.server_url, token=saved.token, user_agent=client_user_agent("sfs-sync"))
    )

    def forget_login() -> None:
        if saved is not None:  # the other folders synced with it erase themselves too
            remember_wiped(config_dir(), saved.server_url)
        remove(config_dir())

    try:
        report = RemoteWipe(folder, api=api, forget_login=forget_login).run()
    finally:
        if api is not None:
            api.close()
    _say_wiped(folder, report)
    sys.exit(EXIT_WIPED)


def _synced_with_a_wiped_login(folder: Path) -> bool:
    """Whether the folder was synced with a server whose login here was wiped."""
    index_file = folder / STATE_FOLDER / "index.db"
    wiped = wiped_servers(config_dir())
    if not wiped or not index_file.exists():
        return False
    index = LocalIndex(index_file)
    try:
        bound = index.setting("bound_to")
    finally:
        index.close()
    return bound is not None and bound.split(" space ")[0] in wiped


def _say_wiped(folder: Path, report: WipeReport) -> None:
    click.echo(
        printable(
            f"sfs: this device was wiped remotely: erased {len(report.erased)} synced files "
            f"from {folder} and its saved login"
        ),
        err=True,
    )
    if report.kept:
        click.echo(
            f"sfs: {len(report.kept)} files that were never synced were left in place:", err=True
        )
        for path in report.kept:
            click.echo(printable(f"sfs:   kept {path}"), err=True)
    if not report.reported:
        click.echo(
            "sfs: the server could not be told yet: run sfs sync on this folder again "
            "to finish the wipe",
            err=True,
        )


def _unreadable(problem: OSError) -> str:
    return f"cannot read {problem.filename or 'the folder'}: {problem.strerror or problem}"


@click.command("status")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def status(folder: Path) -> None:
    """What is waiting to be synced in FOLDER, and what failed and why."""
    if wipe_started(folder) or _synced_with_a_wiped_login(folder):
        click.echo(
            printable(
                f"sfs: this device was wiped remotely and {folder} is not erased yet: "
                f"run sfs sync {folder} to finish"
            ),
            err=True,
        )
        sys.exit(EXIT_WIPED)
    index_file = folder / ".sfs" / "index.db"
    if not index_file.exists():
        click.echo(
            printable(f"sfs: {folder} has not been synced yet: run sfs sync {folder}"), err=True
        )
        sys.exit(EXIT_INVALID)
    index = LocalIndex(index_file)
    try:
        base = index.entries()
        local = scan(folder.resolve(), Ignorer(folder.resolve())).entries
        pending = sorted(
            [("new", p) for p in local if p not in base]
            + [("deleted", p) for p in base if p not in local]
            + [
                ("changed", p)
                for p, entry in local.items()
                if p in base and (base[p].size, base[p].mtime_ns) != (entry.size, entry.mtime_ns)
            ],
            key=lambda item: item[1],
        )
        for kind, path in pending:
            click.echo(printable(f"pending  {kind:<8} {path}"))
        for path, reason, at in index.failures():
            click.echo(printable(f"failed   {path}: {reason} ({at})"))
        if not pending and not index.failures():
            click.echo(f"up to date (cursor {index.setting('cursor') or 0})")
    finally:
        index.close()
