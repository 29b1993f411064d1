"""What makes a password acceptable: long enough, not guessable, not the user's own name or email.

No composition rules (NIST SP 800-63B): length and guessability are what matter.
"""

from __future__ import annotations

import re

from zxcvbn import zxcvbn

from sfs.domain.errors import WeakPassword
from sfs.i18n import N_

ABSOLUTE_MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_GUESSABILITY_SCORE = 3
# zxcvbn's cost grows with length; beyond this a password's tail adds nothing it would find.
_ZXCVBN_PREFIX = 100


def password_rules(min_length: int, *, for_someone_else: bool = False) -> list[str]:
    """The rules `check_password` applies, for a form to show before anything is refused."""
    length = max(min_length, ABSOLUTE_MIN_LENGTH)
    if for_someone_else:
        own = N_("Not the user's name or email address.")
    else:
        own = N_("Not your name or email address.")
    return [
        N_("At least %(low)d and at most %(high)d characters.", low=length, high=MAX_LENGTH),
        own,
        N_("Hard to guess: a few unrelated words make a good password; no common patterns."),
    ]


def check_password(
    password: str,
    *,
    email: str,
    display_name: str,
    min_length: int = ABSOLUTE_MIN_LENGTH,
    for_someone_else: bool = False,
) -> None:
    """Raise WeakPassword saying why, or return when the password is acceptable.

    `for_someone_else`: an administrator chooses it, so the refusal speaks of "the user".
    """
    min_length = max(min_length, ABSOLUTE_MIN_LENGTH)
    if len(password) < min_length:
        raise WeakPassword(N_("Password must be at least %(num)d characters long.", num=min_length))
    if len(password) > MAX_LENGTH:
        raise WeakPassword(N_("Password must be at most %(num)d characters long.", num=MAX_LENGTH))
    folded = password.casefold()
    local_part = email.split("@", 1)[0].casefold()
    if email.casefold() in folded or (len(local_part) >= 4 and local_part in folded):
        raise WeakPassword(
            N_("Password must not contain the user's email address.")
            if for_someone_else
            else N_("Password must not contain your email address.")
        )
    name_parts = [part for part in re.split(r"\W+", display_name.casefold()) if len(part) >= 3]
    if any(part in folded for part in name_parts):
        raise WeakPassword(
            N_("Password must not contain the user's name.")
            if for_someone_else
            else N_("Password must not contain your name.")
        )
    result = zxcvbn(password[:_ZXCVBN_PREFIX], user_inputs=[email, display_name, *name_parts])
    if result["score"] < MIN_GUESSABILITY_SCORE:
        feedback = result.get("feedback") or {}
        reason = feedback.get("warning") or "it follows a common pattern"
        suggestions = " ".join(feedback.get("suggestions") or [])
        # zxcvbn's own reasons are English: they stay so, inside a translated sentence.
        if suggestions:
            raise WeakPassword(
                N_(
                    "Password is too easy to guess: %(reason)s. %(suggestions)s",
                    reason=reason.rstrip("."),
                    suggestions=suggestions,
                )
            )
        raise WeakPassword(
            N_("Password is too easy to guess: %(reason)s.", reason=reason.rstrip("."))
        )
