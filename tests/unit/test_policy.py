from __future__ import annotations

import pytest

from sfs.domain.errors import InvalidInput
from sfs.domain.policy import OrganisationPolicy, check_policy, parse_second_factor_methods

SANE = OrganisationPolicy(
    require_second_factor=True,
    allowed_second_factors=("email", "totp"),
    min_password_length=12,
    session_idle_minutes=60,
    session_absolute_minutes=720,
)


def test_a_sane_policy_passes_with_its_methods_in_canonical_order() -> None:
    assert check_policy(SANE).allowed_second_factors == ("totp", "email")


def test_duplicate_methods_count_once() -> None:
    policy = OrganisationPolicy(**{**SANE.__dict__, "allowed_second_factors": ("totp", "totp")})
    assert check_policy(policy).allowed_second_factors == ("totp",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"allowed_second_factors": ()}, "At least one two-factor method must stay allowed."),
        ({"allowed_second_factors": ("sms",)}, "Unknown two-factor method: sms."),
        ({"min_password_length": 11}, "Minimum password length must be 12 to 256 characters."),
        ({"session_idle_minutes": 0}, "Session idle timeout must be 5 to 1440 minutes."),
        ({"session_absolute_minutes": 10}, "Session absolute timeout must be 15 to 43200 minutes."),
        (
            {"session_idle_minutes": 721},
            "The idle timeout cannot be longer than the absolute timeout.",
        ),
    ],
)
def test_each_bad_value_says_what_is_allowed(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_policy(OrganisationPolicy(**{**SANE.__dict__, **change}))  # type: ignore[arg-type]
    assert refused.value.message == message


def test_stored_method_lists_are_read_leniently() -> None:
    assert parse_second_factor_methods("email, totp,sms") == ("totp", "email")
    assert parse_second_factor_methods("") == ()
