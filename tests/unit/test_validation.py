import pytest

from sfs.domain.errors import InvalidInput
from sfs.domain.validation import clean_display_name, normalize_email


def test_emails_are_case_folded_so_login_names_are_case_insensitive() -> None:
    assert normalize_email("  Jan.Jansen@Example.COM ") == "jan.jansen@example.com"


@pytest.mark.parametrize("raw", ["", "jan", "jan@", "@example.com", "jan@@example.com", "a b@c.nl"])
def test_malformed_emails_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="Not a valid email address"):
        normalize_email(raw)


def test_an_oversized_email_is_refused() -> None:
    with pytest.raises(InvalidInput, match="too long"):
        normalize_email("a" * 250 + "@example.com")


def test_names_are_trimmed_and_checked() -> None:
    assert clean_display_name("  Jan Jansen ") == "Jan Jansen"
    with pytest.raises(InvalidInput, match="must not be empty"):
        clean_display_name("   ")
    with pytest.raises(InvalidInput, match="too long"):
        clean_display_name("J" * 101)
    with pytest.raises(InvalidInput, match="control characters"):
        clean_display_name("Jan\x00Jansen")
