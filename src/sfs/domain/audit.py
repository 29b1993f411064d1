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
    APP_PASSWORD_CREATED = "app_password.created"  # noqa: S105 (an event name)
    APP_PASSWORD_REVOKED = "app_password.revoked"  # noqa: S105 (an event name)
    APP_PASSWORD_USED_FROM_NEW_ADDRESS = "app_password.used_from_new_address"  # noqa: S105
    DEVICE_TOKEN_EXPIRED = "device_token.expired"  # noqa: S105 (an event name)
    # Devices page and remote wipe
    DEVICE_WIPE_REQUESTED = "device.wipe_requested"
    DEVICE_WIPED = "device.wiped"  # the device confirmed it erased what it held
    SIGNED_OUT_EVERYWHERE = "user.signed_out_everywhere"
    FILES_TRANSFERRED = "user.files_transferred"
    # Share links (services/sharing/links.py, link_access.py)
    SHARE_LINK_CREATED = "share_link.created"
    SHARE_LINK_REVOKED = "share_link.revoked"
    SHARE_LINK_CHANGED = "share_link.changed"  # details name what changed, never a password
    SHARE_LINK_DOWNLOADED = "share_link.downloaded"
    SHARE_LINK_UPLOADED = "share_link.uploaded"
    SHARE_LINK_PASSWORD_FAILED = "share_link.password_failed"  # noqa: S105 (an event name)
    SHARE_LINK_THROTTLED = "share_link.throttled"
    LINK_POLICY_CHANGED = "organisation.link_policy_changed"
    # Shares with colleagues and groups (services/sharing/shares.py)
    SHARE_CREATED = "share.created"
    SHARE_CHANGED = "share.changed"
    SHARE_REMOVED = "share.removed"
    # Groups and team folders
    GROUP_CREATED = "group.created"
    GROUP_CHANGED = "group.changed"  # renamed, or a member added or removed
    GROUP_DELETED = "group.deleted"
    TEAM_FOLDER_CREATED = "team_folder.created"
    TEAM_FOLDER_RENAMED = "team_folder.renamed"
    TEAM_FOLDER_DELETED = "team_folder.deleted"
    TEAM_FOLDER_MEMBER_ADDED = "team_folder.member_added"
    TEAM_FOLDER_MEMBER_CHANGED = "team_folder.member_changed"
    TEAM_FOLDER_MEMBER_REMOVED = "team_folder.member_removed"
    ORGANISATION_CREATED = "organisation.created"
    ORGANISATION_POLICY_CHANGED = "organisation.policy_changed"
    ORGANISATION_SUSPENDED = "organisation.suspended"
    ORGANISATION_REACTIVATED = "organisation.reactivated"
    AUDIT_LOG_EXPORTED = "audit_log.exported"
    USER_CREATED = "user.created"
    PASSWORD_REHASHED = "password.rehashed"  # noqa: S105 (an event name)
    # Account administration and My account
    USER_INVITED = "user.invited"
    INVITATION_ACCEPTED = "user.invitation_accepted"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
    USER_DELETED = "user.deleted"
    PASSWORD_CHANGED = "password.changed"  # noqa: S105 (an event name)
    PASSWORD_CHANGED_BY_ADMIN = "password.changed_by_admin"  # noqa: S105 (an event name)
    SECOND_FACTOR_RESET = "second_factor.reset"
    SESSION_REVOKED = "session.revoked"
    LANGUAGE_CHANGED = "user.language_changed"
    EMAIL_CODE_SENT = "second_factor.email_code_sent"
    SECOND_FACTOR_ENROLLED = "second_factor.enrolled"
    MAILBOX_PROVEN = "second_factor.mailbox_proven"
    SECOND_FACTOR_VERIFIED = "second_factor.verified"
    SECOND_FACTOR_FAILED = "second_factor.failed"
    BACKUP_KEY_USED = "second_factor.backup_key_used"
    PASSWORD_RESET_REQUESTED = "password_reset.requested"  # noqa: S105 (an event name)
    PASSWORD_RESET_COMPLETED = "password_reset.completed"  # noqa: S105 (an event name)
