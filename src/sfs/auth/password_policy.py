"""What makes a password acceptable: long enough, not guessable, not the user's own name or email.

No composition rules (NIST SP 800-63B): length and guessability are what matter.
"""

from __future__ import annotations

import re

from zxcvbn import zxcvbn

from sfs.domain.errors import WeakPassword

ABSOLUTE_MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_GUESSABILITY_SCORE = 3
# zxcvbn's cost grows with length; beyond this a password's tail adds nothing it would find.
_ZXCVBN_PREFIX = 100


def check_password(
    password: str, *, email: str, display_name: str, min_length: int = ABSOLUTE_MIN_LENGTH
) -> None:
    """Raise WeakPassword saying why, or return when the password is acceptable."""
    min_length = max(min_length, ABSOLUTE_MIN_LENGTH)
    if len(password) < min_length:
        raise WeakPassword(f"Password must be at least {min_length} characters long.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Password must be at most {MAX_LENGTH} characters long.")
    folded = password.casefold()
    local_part = email.split("@", 1)[0].casefold()
    if email.casefold() in folded or (len(local_part) >= 4 and local_part in folded):
        raise WeakPassword("Password must not contain your email address.")
    name_parts = [part for part in re.split(r"\W+", display_name.casefold()) if len(part) >= 3]
    if any(part in folded for part in name_parts):
        raise WeakPassword("Password must not contain your name.")
    result = zxcvbn(password[:_ZXCVBN_PREFIX], user_inputs=[email, display_name, *name_parts])
    if result["score"] < MIN_GUESSABILITY_SCORE:
        feedback = result.get("feedback") or {}
        reason = feedback.get("warning") or "it follows a common pattern"
        suggestions = " ".join(feedback.get("suggestions") or [])
        message = f"Password is too easy to guess: {reason.rstrip('.')}."
        if suggestions:
            message += f" {suggestions}"
        raise WeakPassword(message)
