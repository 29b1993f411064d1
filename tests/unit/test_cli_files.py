"""How `sfs` file commands explain API failures: one line and an exit code scripts can use."""

from __future__ import annotations

import sys

import click
import pytest

from sfs.cli.exit_codes import EXIT_DENIED, EXIT_EXISTS, EXIT_FAILURE, EXIT_NOT_FOUND
from sfs.cli.files import _explain, _second_factor
from sfs.client.api import ApiError, LoginOutcome

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


class ThrottledResend:
    """An API whose resend is refused as too soon, and which takes the code asked for after."""

    def __init__(self) -> None:
        self.answered: list[str] = []

    def resend_email_code(self, *, challenge: str) -> None:
        raise ApiError(
            "A new code can be sent in 40 seconds.", status=429, code="too_many_attempts"
        )

    def answer_second_factor(self, *, challenge: str, code: str, device_name: str) -> LoginOutcome:
        self.answered.append(code)
        return LoginOutcome(token="sfs_token")


def test_a_throttled_resend_says_no_new_code_was_sent_and_keeps_asking(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    typed = iter(["r", "123456"])
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(click, "prompt", lambda _text: next(typed))
    api = ThrottledResend()
    challenge = LoginOutcome(token=None, challenge="c", method="email")

    outcome = _second_factor(api, challenge, code=None, device_name="laptop")  # type: ignore[arg-type]

    assert outcome.token == "sfs_token" and api.answered == ["123456"]
    said = capsys.readouterr().err
    assert "Check your email for the code (the latest email, if you have several)." in said
    assert (
        "sfs: A new code can be sent in 40 seconds. The code in the latest email still works."
    ) in said
    assert "A new code was sent" not in said


def test_the_server_s_words_on_which_emailed_code_works_are_printed_escaped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    api = ThrottledResend()
    said_by_server = (
        "The last Authentication Code was sent to u@acme.example.com at 09:00 UTC. "
        "It is valid until 09:10 UTC.\x1b[2J"
    )
    challenge = LoginOutcome(token=None, challenge="c", method="email", message=said_by_server)

    _second_factor(api, challenge, code="123456", device_name="laptop")  # type: ignore[arg-type]

    said = capsys.readouterr().err
    assert "was sent to u@acme.example.com at 09:00 UTC. It is valid until 09:10 UTC." in said
    assert "\x1b" not in said and "Check your email" not in said
