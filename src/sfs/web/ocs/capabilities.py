"""What sfs tells Nextcloud clients it is and can do: status.php and the OCS capabilities.

Clients switch features on these values: `dav.chunking` "1.0" enables chunked upload v2 (files
over 10 MB go up in chunks to /remote.php/dav/uploads/), `checksums` which checksum they send
with uploads (OC-Checksum, verified here), `files_sharing` what their share dialogs offer: it
states the caller's organisation's policy (links allowed, password and expiry enforced, file
drops, sharing with colleagues and groups) when the request carries credentials, the defaults
otherwise. The version is the Nextcloud release whose protocol this speaks;
the clients refuse servers below 5 and warn about very old ones.
"""

from __future__ import annotations

from sfs import __version__
from sfs.services.sharing.link_policy import LinkPolicyView

PRODUCT_NAME = "Secure File Sync"
NEXTCLOUD_VERSION = (25, 0, 0, 0)
VERSION_STRING = ".".join(str(part) for part in NEXTCLOUD_VERSION[:3])
# How often (milliseconds) the desktop client asks whether something changed on the server.
POLL_INTERVAL_MS = 30_000


def status(*, maintenance: bool = False) -> dict[str, object]:
    """The body of GET /status.php."""
    return {
        "installed": True,
        "maintenance": maintenance,
        "needsDbUpgrade": False,
        "version": ".".join(str(part) for part in NEXTCLOUD_VERSION),
        "versionstring": VERSION_STRING,
        "edition": "",
        "productname": PRODUCT_NAME,
        "extendedSupport": False,
    }


def capabilities(
    policy: LinkPolicyView | None = None, *, internal_sharing: bool = True
) -> dict[str, object]:
    """`data` of /ocs/v{1,2}.php/cloud/capabilities, for an organisation's policy (or the
    defaults, for a caller without credentials)."""
    major, minor, micro, _ = NEXTCLOUD_VERSION
    return {
        "version": {
            "major": major,
            "minor": minor,
            "micro": micro,
            "string": VERSION_STRING,
            "edition": "",
            "extendedSupport": False,
        },
        "capabilities": {
            "core": {
                "pollinterval": POLL_INTERVAL_MS,
                # Relative to the server root: the caller's own files (the /dav alias).
                "webdav-root": "dav",
                "reference-api": False,
            },
            "dav": {"chunking": "1.0"},
            "files": {
                "bigfilechunking": True,
                "blacklisted_files": [],
                "undelete": False,
                "versioning": False,
            },
            "checksums": {"supportedTypes": ["SHA1"], "preferredUploadType": "SHA1"},
            "files_sharing": files_sharing(policy or LinkPolicyView(), internal_sharing),
            "theming": {"name": PRODUCT_NAME, "productName": PRODUCT_NAME},
            "sfs": {"version": __version__},
        },
    }


def files_sharing(policy: LinkPolicyView, internal_sharing: bool) -> dict[str, object]:
    off = {"enabled": False}
    days = policy.default_expiry_days or policy.max_expiry_days
    return {
        "api_enabled": policy.links_allowed or internal_sharing,
        "public": {
            "enabled": policy.links_allowed,
            "password": {
                "enforced": policy.password_required,
                "askForOptionalPassword": False,
            },
            "expire_date": {
                "enabled": days is not None,
                **({"days": days} if days is not None else {}),
                "enforced": policy.max_expiry_days is not None,
            },
            "expire_date_internal": off,
            "expire_date_remote": off,
            "multiple_links": True,
            "upload": True,  # "visitors can also add files" on a folder link
            "upload_files_drop": policy.upload_only_allowed,
            "send_mail": False,
        },
        "user": {"send_mail": False, "expire_date": off},
        "group_sharing": internal_sharing,
        "group": {"enabled": internal_sharing, "expire_date": off},
        "resharing": False,
        # Read: what a new share with a colleague gives unless the client says otherwise.
        "default_permissions": 1,
        "federation": {
            "outgoing": False,
            "incoming": False,
            "expire_date": off,
            "expire_date_supported": off,
        },
        "sharee": {"query_lookup_default": False, "always_show_unique": True},
    }
