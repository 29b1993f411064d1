"""How `sfs` file commands explain API failures: one line and an exit code scripts can use."""

from __future__ import annotations

import pytest

from sfs.cli.exit_codes import EXIT_DENIED, EXIT_EXISTS, EXIT_FAILURE, EXIT_NOT_FOUND
from sfs.cli.files import _explain
from sfs.client.api import ApiError

URL = "https://files.example.com"


@pytest.mark.parametrize(
    ("error", "expected_code", "expected_text"),
    [
        (ApiError("'a' already exists.", status=409, code="conflict"), EXIT_EXISTS, "exists"),
        (ApiError("Gone.", status=401, code="not_authenticated"), EXIT_DENIED, "log in again"),
        (ApiError("No such file.", status=404, code="not_found"), EXIT_NOT_FOUND, "No such"),
        (ApiError("Quota exceeded.", status=507, code="quota_exceeded"), EXIT_FAILURE, "Quota"),
        (ApiError("cannot reach", status=None, code="unreachable"), EXIT_FAILURE, "cannot reach"),
    ],
)
def test_api_failures_become_one_line_and_an_exit_code(
    error: ApiError, expected_code: int, expected_text: str
) -> None:
    message, code = _explain(error, URL)
    assert code == expected_code
    assert expected_text in message
    assert "\n" not in message
