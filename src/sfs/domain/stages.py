"""How far a login has got. Only an ACTIVE session may do anything beyond finishing the login."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


class LoginStage(StrEnum):
    ACTIVE = "active"
    SECOND_FACTOR = "second_factor"  # the password was right; a code or backup key is due
    ENROLMENT = "enrolment"  # the password was right; a second factor must be set up first


# Longer than an email code lives (10 minutes), so a slow user can still re-send and finish.
PENDING_LOGIN_LIFETIME = timedelta(minutes=30)
