from __future__ import annotations

import pytest

from sfs.i18n import clean_language, negotiate, translator


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
