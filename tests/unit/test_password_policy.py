import pytest

from sfs.auth.password_policy import check_password
from sfs.domain.errors import WeakPassword
from tests.support import GOOD_PASSWORD

EMAIL = "jan.jansen@example.com"
NAME = "Jan Jansen"


def check(password: str, min_length: int = 12) -> None:
    check_password(password, email=EMAIL, display_name=NAME, min_length=min_length)


def test_a_long_unguessable_password_is_accepted() -> None:
    check(GOOD_PASSWORD)


def test_a_short_password_is_refused_with_the_minimum() -> None:
    with pytest.raises(WeakPassword, match="at least 12 characters"):
        check("x7#Kq!p2")


def test_the_organisation_may_demand_more_than_twelve() -> None:
    with pytest.raises(WeakPassword, match="at least 20 characters"):
        check(GOOD_PASSWORD[:16], min_length=20)


def test_the_minimum_never_drops_below_twelve() -> None:
    with pytest.raises(WeakPassword, match="at least 12 characters"):
        check("tq8#vRm2!", min_length=4)


def test_an_overlong_password_is_refused() -> None:
    with pytest.raises(WeakPassword, match="at most 256"):
        check("plum-ladder-" * 30)


@pytest.mark.parametrize("password", ["password1234", "qwertyuiop123", "iloveyou2024!"])
def test_common_passwords_are_refused_with_a_reason(password: str) -> None:
    with pytest.raises(WeakPassword, match="too easy to guess"):
        check(password)


def test_a_password_containing_the_email_is_refused() -> None:
    with pytest.raises(WeakPassword, match="email"):
        check("Jan.Jansen@example.com-9!x")


def test_a_password_containing_the_name_is_refused() -> None:
    with pytest.raises(WeakPassword, match="name"):
        check("orbit-JANSEN-ladder-77")


def test_no_composition_rules_apply() -> None:
    check("four random lowercase words shine")
