"""An organisation's security policy: which values are allowed, and why these bounds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sfs.domain.errors import InvalidInput
from sfs.i18n import N_

# The second factors an organisation may allow. "Text message" is never offered (not in Europe).
SECOND_FACTOR_METHODS = ("totp", "email")

# 12 is the floor the password policy always enforces; 256 is the longest password accepted.
MIN_PASSWORD_LENGTH_FLOOR = 12
MIN_PASSWORD_LENGTH_CEILING = 256

# Below 5 minutes of idleness a user is logged out while reading; above a day a forgotten
# browser stays open overnight. An absolute lifetime beyond 30 days is no longer a session.
SESSION_IDLE_MINUTES_RANGE = (5, 24 * 60)
SESSION_ABSOLUTE_MINUTES_RANGE = (15, 30 * 24 * 60)


@dataclass(frozen=True)
class OrganisationPolicy:
    require_second_factor: bool
    allowed_second_factors: tuple[str, ...]
    min_password_length: int
    session_idle_minutes: int
    session_absolute_minutes: int
    # Members without a second factor may give WebDAV and Nextcloud clients their account
    # password instead of an app password.
    allow_account_password_clients: bool = False
    # Members may share files and folders with colleagues and groups (services/sharing/shares).
    internal_sharing_allowed: bool = True


def parse_second_factor_methods(stored: str) -> tuple[str, ...]:
    """The stored comma-separated list, in the canonical order, unknown names dropped."""
    names = {part.strip() for part in stored.split(",")}
    return tuple(method for method in SECOND_FACTOR_METHODS if method in names)


def format_second_factor_methods(methods: Iterable[str]) -> str:
    return ",".join(methods)


def check_policy(policy: OrganisationPolicy) -> OrganisationPolicy:
    """The policy with its method list in canonical order, or InvalidInput naming the field."""
    methods = set(policy.allowed_second_factors)
    unknown = sorted(methods - set(SECOND_FACTOR_METHODS))
    if unknown:
        raise InvalidInput(
            f"Unknown two-factor method: {', '.join(unknown)}.", field="allowed_second_factors"
        )
    if not methods:
        raise InvalidInput(
            N_("At least one two-factor method must stay allowed."), field="allowed_second_factors"
        )
    if not MIN_PASSWORD_LENGTH_FLOOR <= policy.min_password_length <= MIN_PASSWORD_LENGTH_CEILING:
        raise InvalidInput(
            f"Minimum password length must be {MIN_PASSWORD_LENGTH_FLOOR} to "
            f"{MIN_PASSWORD_LENGTH_CEILING} characters.",
            field="min_password_length",
        )
    _check_range(
        policy.session_idle_minutes,
        SESSION_IDLE_MINUTES_RANGE,
        what="Session idle timeout",
        field="session_idle_minutes",
    )
    _check_range(
        policy.session_absolute_minutes,
        SESSION_ABSOLUTE_MINUTES_RANGE,
        what="Session absolute timeout",
        field="session_absolute_minutes",
    )
    if policy.session_idle_minutes > policy.session_absolute_minutes:
        raise InvalidInput(
            N_("The idle timeout cannot be longer than the absolute timeout."),
            field="session_idle_minutes",
        )
    return OrganisationPolicy(
        require_second_factor=policy.require_second_factor,
        allowed_second_factors=tuple(m for m in SECOND_FACTOR_METHODS if m in methods),
        min_password_length=policy.min_password_length,
        session_idle_minutes=policy.session_idle_minutes,
        session_absolute_minutes=policy.session_absolute_minutes,
        allow_account_password_clients=policy.allow_account_password_clients,
        internal_sharing_allowed=policy.internal_sharing_allowed,
    )


def _check_range(value: int, bounds: tuple[int, int], *, what: str, field: str) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise InvalidInput(f"{what} must be {low} to {high} minutes.", field=field)
