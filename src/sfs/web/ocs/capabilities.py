"""What sfs tells Nextcloud clients it is and can do: status.php and the OCS capabilities.

Clients switch features on these values: `dav.chunking` "1.0" enables chunked upload v2 (files
over 10 MB go up in chunks to /remote.php/dav/uploads/), `checksums` which checksum they send
with uploads (OC-Checksum, verified here), `files_sharing.api_enabled` false hides the sharing
menus (no OCS share API yet). The version is the Nextcloud release whose protocol this speaks;
the clients refuse servers below 5 and warn about very old ones.
"""

from __future__ import annotations

from sfs import __version__

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


def capabilities() -> dict[str, object]:
    """`data` of /ocs/v{1,2}.php/cloud/capabilities."""
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
            "files_sharing": {
                "api_enabled": False,
                "public": {"enabled": False},
                "resharing": False,
                "user": {"send_mail": False},
            },
            "theming": {"name": PRODUCT_NAME, "productName": PRODUCT_NAME},
            "sfs": {"version": __version__},
        },
    }
