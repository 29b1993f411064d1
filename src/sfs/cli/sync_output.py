"""What `sfs sync` tells a person: a sentence per change, a start line, and each problem once.

A long-running sync passes over the same trouble again and again (a file the disk refuses, a
symbolic link, the server away): it is said when it starts and when it changes, never again at
every pass or every retry. `--json` is for programs and keeps its events as they are
(`sfs.cli.sync`); this module is for people only. Every name goes through `printable`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from sfs.client.printable import printable
from sfs.client.sync.report import Report
from sfs.protocol.sizes import byte_size

Say = Callable[[str], None]
UNREACHABLE = "unreachable"  # the kind of an outage, whatever the connection error says


def shown(path: str) -> str:
    """A path as a person reads it: relative to the synced folder, escaped."""
    return printable(path.lstrip("/") or "/")


def sentence(event: dict[str, Any]) -> str | None:
    """A change made by a pass, in plain words; None for what is said elsewhere (failures, at
    the end of the pass, and only when they change) or not to people at all (progress)."""
    kind, path = event["event"], shown(str(event.get("path", "")))
    size = f" ({byte_size(int(event['size']))})" if "size" in event else ""
    if kind == "uploaded":
        return f"Uploaded {path}{size}"
    if kind == "downloaded":
        return f"Downloaded {path}{size}"
    if kind == "deleted_local":
        return f"Deleted {path} here (it was deleted on the server)"
    if kind == "deleted_remote":
        return f"Deleted {path} on the server (it was deleted here)"
    if kind == "moved":
        target = shown(str(event["to"]))
        if event.get("on") == "here":
            return f"Moved {path} to {target} here (it was moved on the server)"
        return f"Moved {path} to {target} on the server (it was moved here)"
    if kind == "conflict":
        return (
            f"{path} was changed here and on the server: the server's version keeps the "
            f"name, yours is kept as {shown(str(event['kept_as']))}"
        )
    return None


def start_line(folder: Path, server: str, space: str, *, once: bool) -> str:
    """'Watching ~/Documents ↔ https://files.example.com (My Files)'."""
    where = str(folder.resolve())
    home = str(Path.home())
    if where == home or where.startswith(home.rstrip("/") + "/"):
        where = "~" + where[len(home) :]
    verb = "Syncing" if once else "Watching"
    return printable(f"{verb} {where} ↔ {server} ({space})")


def summary(report: Report) -> str:
    """One line after a pass that changed something."""
    parts = [
        (report.uploaded, "uploaded"),
        (report.downloaded, "downloaded"),
        (report.deleted_local + report.deleted_remote, "deleted"),
        (report.moved, "moved"),
        (report.conflicts, "in conflict"),
        (report.folders, "folders made"),
    ]
    counted = ", ".join(f"{count} {what}" for count, what in parts if count)
    traffic = []
    if report.bytes_sent_total:
        traffic.append(f"{byte_size(report.bytes_sent_total)} sent")
    if report.bytes_received:
        traffic.append(f"{byte_size(report.bytes_received)} received")
    return f"Synced: {counted}" + (f" ({', '.join(traffic)})" if traffic else "") + "."


class ProblemLog:
    """Says each failed path, each warning and each outage once, and again only when it changes
    (another reason) or ends (the server back)."""

    def __init__(self, say: Say | None = None) -> None:
        self._say = say or (lambda line: click.echo(line, err=True))
        self._failed: dict[str, str] = {}
        self._warned: dict[str, str] = {}
        self._away: str | None = None

    def after_pass(self, report: Report) -> None:
        """A pass ended: new warnings and failures are said; the server answered."""
        self.server_back()
        self._warned = self._tell(self._warned, report.warnings, "warning: ")
        self._failed = self._tell(self._failed, report.failed, "not synced: ")

    def server_away(self, reason: str, *, kind: str | None = None) -> None:
        """The pass could not reach the server (or read the folder): said when it starts or
        its `kind` changes (the reason by default: "connection refused" and then "timed out"
        are one outage); the retries in between say nothing."""
        if (kind or reason) != self._away:
            until = " until it is back" if kind == UNREACHABLE else ""
            self._say(printable(f"sfs: {reason}; retrying{until}…"))
        self._away = kind or reason

    def server_back(self) -> None:
        if self._away == UNREACHABLE:
            self._say("sfs: the server is back; syncing again.")
        elif self._away is not None:
            self._say("sfs: syncing again.")
        self._away = None

    def _tell(
        self, before: dict[str, str], now: list[tuple[str, str]], prefix: str
    ) -> dict[str, str]:
        current = dict(now)
        for path, reason in now:
            if before.get(path) != reason:
                self._say(printable(f"sfs: {prefix}{shown(path)}: {reason}"))
        return current
