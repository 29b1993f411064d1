"""Every failure a service can report, each carrying the data an adapter needs to answer it.

Adapters map these to HTTP answers or exit codes in one place (`sfs.web.errors`, `sfs.cli`).
"""

from __future__ import annotations

from sfs.i18n import N_

NOT_LOGGED_IN = N_("You are not logged in, or your session has ended.")


class SfsError(Exception):
    """Base of all domain errors: `code` is stable, for machines; the message is for people."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SfsError):
    """The caller sent something malformed; `field` names which input, when there is one."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class WeakPassword(InvalidInput):
    code = "weak_password"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="password")


class RangeNotSatisfiable(SfsError):
    """A byte range that starts at or past the end of the file (HTTP 416)."""

    code = "range_not_satisfiable"

    def __init__(self, *, size: int) -> None:
        super().__init__(f"The range is outside the file ({size} bytes).")
        self.size = size


class AlreadyExists(SfsError):
    code = "already_exists"


class NotFound(SfsError):
    """Also the answer for anything of another organisation, so its existence never leaks."""

    code = "not_found"


class PermissionDenied(SfsError):
    code = "permission_denied"


class AuthenticationFailed(SfsError):
    """Wrong email or password; deliberately says nothing about which."""

    code = "authentication_failed"

    def __init__(self, message: str = N_("Wrong email or password.")) -> None:
        super().__init__(message)


class NotAuthenticated(SfsError):
    code = "not_authenticated"

    def __init__(
        self, message: str = N_("You are not logged in, or your session has ended.")
    ) -> None:
        super().__init__(message)


class DeviceWiped(NotAuthenticated):
    """The device's token was revoked with a remote wipe: the client erases what it synced."""

    code = "device_wiped"

    def __init__(
        self,
        message: str = N_(
            "This device was wiped remotely: it erases the files it synced and signs out."
        ),
    ) -> None:
        super().__init__(message)


class InvalidLink(SfsError):
    """An emailed link (invitation, reset) that is unknown, expired or already used."""

    code = "invalid_link"


class LinkGone(SfsError):
    """A share link that was revoked, has expired, is used up, or whose file or folder is gone
    (or that its organisation's link policy no longer allows)."""

    code = "link_gone"


class LinkPasswordRequired(SfsError):
    """A share link with a password, visited without having given it."""

    code = "link_password_required"


class TooLarge(SfsError):
    """More than a limit the service sets on one answer (a folder too big to ZIP)."""

    code = "too_large"


class AccountUnavailable(SfsError):
    """The credentials were right but the account (or its organisation) may not log in."""

    code = "account_unavailable"


class TooManyAttempts(SfsError):
    code = "too_many_attempts"

    def __init__(self, *, retry_after_seconds: int) -> None:
        minutes = max(1, -(-retry_after_seconds // 60))
        unit = "minute" if minutes == 1 else "minutes"
        super().__init__(f"Too many attempts, try again in {minutes} {unit}.")
        self.retry_after_seconds = retry_after_seconds


class TooManyUploads(TooManyAttempts):
    """Over the ceiling of uploads in progress at once; answered like TooManyAttempts (429)."""

    code = "too_many_uploads"

    def __init__(self, *, limit: int, whose: str, retry_after_seconds: int) -> None:
        SfsError.__init__(
            self,
            f"{limit} uploads are in progress from {whose} already; "
            f"try again when one has finished (in {retry_after_seconds} seconds or so).",
        )
        self.retry_after_seconds = retry_after_seconds


class InvalidCode(SfsError):
    """A second-factor code or backup key that was wrong, expired, replayed or used up."""

    code = "invalid_code"


class EnrolmentRequired(SfsError):
    """The password was right, but a second factor must be set up (in the portal) first."""

    code = "second_factor_enrolment_required"


class PasswordChangeRequired(SfsError):
    """An administrator set a temporary password: until it is replaced, nothing else is allowed."""

    code = "password_change_required"

    def __init__(
        self,
        message: str = (
            "Your administrator requires you to choose a new password. Change it in the web "
            "portal (My account), then log in again."
        ),
    ) -> None:
        super().__init__(message)


class ResendTooSoon(SfsError):
    code = "too_many_attempts"

    def __init__(self, *, retry_after_seconds: int) -> None:
        if retry_after_seconds < 60:
            wait = f"{retry_after_seconds} seconds"
        else:
            minutes = -(-retry_after_seconds // 60)
            wait = f"{minutes} minute" + ("" if minutes == 1 else "s")
        super().__init__(f"A new code can be sent in {wait}.")
        self.retry_after_seconds = retry_after_seconds


class Conflict(SfsError):
    """The request is fine but the current state forbids it: a name taken, a stale base version."""

    code = "conflict"


class Locked(SfsError):
    """A WebDAV lock held by someone else (or not submitted) forbids this change."""

    code = "locked"


class PreconditionFailed(SfsError):
    """A condition the client set (If-Match, If, Overwrite: F) does not hold: nothing changed."""

    code = "precondition_failed"


class QuotaExceeded(SfsError):
    code = "quota_exceeded"


class CorruptChunk(SfsError):
    """A stored chunk failed its integrity check (GCM tag or keyed hash): never served as data."""

    code = "corrupt_chunk"

    def __init__(self, chunk_id: str, *, reason: str = "it failed its integrity check") -> None:
        super().__init__(f"Stored chunk {chunk_id} is damaged: {reason}.")
        self.chunk_id = chunk_id


class MissingChunk(SfsError):
    """A chunk the metadata refers to is not in the blob backend (its pack is gone)."""

    code = "missing_chunk"

    def __init__(self, chunk_id: str) -> None:
        super().__init__(f"Stored chunk {chunk_id} is missing from the blob store.")
        self.chunk_id = chunk_id


class DamagedFile(SfsError):
    """A file whose stored content failed verification: an error naming it, never wrong bytes."""

    code = "damaged_file"

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"The file {path} is damaged and cannot be read. {detail}")
        self.path = path
