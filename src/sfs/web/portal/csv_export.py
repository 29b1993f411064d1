"""Audit events as CSV that is safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from sfs.services.audit import AuditEntry

# A spreadsheet treats a cell starting with one of these as a formula (CSV injection); tab and
# carriage return are included because some spreadsheets strip them and then see the formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

HEADER = (
    "time",
    "event_type",
    "organisation",
    "actor",
    "target",
    "client_address",
    "user_agent",
    "details",
    "request_id",  # the X-Request-ID in the server's log lines of the same request
)


def neutralise(cell: str) -> str:
    """Prefix a would-be formula with an apostrophe, so it is shown as text, never evaluated."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def audit_csv(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """The header, then one line per event, each yielded as soon as it is written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Iterable[str]) -> str:
        writer.writerow([neutralise(cell) for cell in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(HEADER)
    for entry in entries:
        yield line(
            (
                entry.occurred_at.isoformat(),
                entry.event_type,
                entry.organization_name or "",
                entry.actor_email or "",
                entry.target_email or "",
                entry.client_address or "",
                entry.user_agent or "",
                json.dumps(entry.details, sort_keys=True, ensure_ascii=False),
                entry.request_id or "",
            )
        )
