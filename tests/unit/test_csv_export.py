from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from sfs.services.audit import AuditEntry
from sfs.web.portal.csv_export import audit_csv, neutralise


@pytest.mark.parametrize("dangerous", ["=1+1", "+1", "-2", "@SUM(A1)", "\t=1", "\r=1"])
def test_cells_a_spreadsheet_would_evaluate_become_text(dangerous: str) -> None:
    assert neutralise(dangerous) == "'" + dangerous


@pytest.mark.parametrize("harmless", ["", "alice@example.com", "1.2.3.4", "{}", "a=b"])
def test_other_cells_are_left_alone(harmless: str) -> None:
    assert neutralise(harmless) == harmless


def test_every_cell_of_an_event_is_neutralised_and_quoted_properly() -> None:
    entry = AuditEntry(
        id=1,
        occurred_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
        event_type="login.failed",
        organization_id=None,
        actor_email=None,
        target_email='=HYPERLINK("http://evil")@x.com',
        client_address="-1",
        user_agent='Mozilla "quoted", with comma',
        details={"reason": "=cmd"},
        request_id="=1+1-0123456789",  # a proxy's id may start like a formula too
    )
    lines = list(audit_csv([entry]))
    assert len(lines) == 2 and all(line.endswith("\r\n") for line in lines)
    header, row = csv.reader(io.StringIO("".join(lines)))
    assert header[0] == "time"
    assert row == [
        "2026-11-25T09:00:00+00:00",
        "login.failed",
        "",
        "",
        '\'=HYPERLINK("http://evil")@x.com',
        "'-1",
        'Mozilla "quoted", with comma',
        '{"reason": "=cmd"}',
        "'=1+1-0123456789",
    ]
