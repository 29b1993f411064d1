from __future__ import annotations

import pytest

from sfs.auth.password_policy import check_password
from sfs.domain.errors import WeakPassword
from sfs.i18n import N_, clean_language, negotiate, plural_message, translator


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("nl-NL,nl;q=0.9,en;q=0.8", "nl"),
        ("en-GB,en;q=0.9,nl;q=0.8", "en"),
        ("de-DE,de;q=0.9,nl;q=0.5,en;q=0.4", "nl"),
        ("en;q=0.2, nl;q=0.7", "nl"),
        ("NL", "nl"),
        ("fr, de", None),
        ("*", None),
        ("nl;q=0", None),
        ("nl;q=abc, en", "en"),
        ("", None),
        (None, None),
    ],
)
def test_the_browsers_preferred_supported_language_wins(header: str | None, chosen: str) -> None:
    assert negotiate(header) == chosen


def test_unknown_languages_fall_back_to_english() -> None:
    assert clean_language("xx") == "en"
    assert clean_language(None) == "en"
    assert clean_language(" NL ") == "nl"


def test_english_is_the_source_language() -> None:
    assert translator("en")("Audit log") == "Audit log"
    assert translator("fr")("Audit log") == "Audit log"


def test_a_message_with_values_is_english_now_and_translatable_later() -> None:
    folder = N_("%(path)s is a folder.", path="/Plans")
    assert folder == "/Plans is a folder." and isinstance(folder, str)
    tries = plural_message(
        "Wrong code. %(num)d try left for this code.",
        "Wrong code. %(num)d tries left for this code.",
        1,
    )
    assert tries == "Wrong code. 1 try left for this code."
    assert translator("nl")(tries) == "Verkeerde code. Nog 1 poging voor deze code."
    assert (
        translator("nl")(
            plural_message(
                "Wrong code. %(num)d try left for this code.",
                "Wrong code. %(num)d tries left for this code.",
                3,
            )
        )
        == "Verkeerde code. Nog 3 pogingen voor deze code."
    )
    try:
        check_password("short", email="a@example.com", display_name="A")
    except WeakPassword as refused:
        assert refused.message == "Password must be at least 12 characters long."
        assert translator("nl")(refused.message) == (
            "Het wachtwoord moet minstens 12 tekens lang zijn."
        )
    else:
        raise AssertionError("a short password was accepted")
