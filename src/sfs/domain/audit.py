"""The kinds of events the audit log records."""

from __future__ import annotations

from enum import StrEnum


class AuditEventType(StrEnum):
    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    LOGIN_THROTTLED = "login.throttled"
    LOGOUT = "logout"
    SESSION_EXPIRED = "session.expired"
    DEVICE_TOKEN_ISSUED = "device_token.issued"  # noqa: S105 (an event name)
    DEVICE_TOKEN_REVOKED = "device_token.revoked"  # noqa: S105 (an event name)
    ORGANISATION_CREATED = "organisation.created"
    ORGANISATION_POLICY_CHANGED = "organisation.policy_changed"
    USER_CREATED = "user.created"
    PASSWORD_REHASHED = "password.rehashed"  # noqa: S105 (an event name)
