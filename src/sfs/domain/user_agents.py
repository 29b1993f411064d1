"""What a User-Agent header says about a device: its client, the client's version, its platform.

Read simply, for the Devices page: a person recognises "Firefox 128 on Linux" or "Nextcloud
desktop 3.7.3 on Windows" as theirs. Nothing is decided on it (it is whatever the device sent).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sfs.i18n import N_

# Checked in order: the first that matches names the client. Browsers claim each other's names
# (Chrome says Safari, Edge says Chrome), so the most specific come first.
_CLIENTS: tuple[tuple[str, str], ...] = (
    (r"\bsfs-sync/([\w.+-]+)", "sfs sync"),
    (r"\bsfs-client/([\w.+-]+)", "sfs CLI"),
    (
        r"\bnextcloudcmd\b.*?\bmirall/([\w.+-]+)|\bmirall/([\w.+-]+).*?\bnextcloudcmd\b",
        "nextcloudcmd",
    ),
    (r"\bmirall/([\w.+-]+)", "Nextcloud desktop"),
    (r"\bNextcloud-android/([\w.+-]+)", "Nextcloud Android"),
    (r"\bNextcloud-iOS/([\w.+-]+)", "Nextcloud iOS"),
    (r"\brclone/v?([\w.+-]+)", "rclone"),
    (r"\bMicrosoft-WebDAV-MiniRedir/([\w.+-]+)", "Windows WebDAV"),
    (r"\bWebDAVFS/([\w.+-]+)", "macOS Finder"),
    (r"\bcadaver/([\w.+-]+)", "cadaver"),
    (r"\bcurl/([\w.+-]+)", "curl"),
    (r"\bEdg(?:e|A|iOS)?/(\d+)", "Edge"),
    (r"\bOPR/(\d+)", "Opera"),
    (r"\bFirefox/(\d+)", "Firefox"),
    (r"\bChromium/(\d+)", "Chromium"),
    (r"\b(?:HeadlessChrome|Chrome|CriOS)/(\d+)", "Chrome"),
    (r"\bVersion/(\d+(?:\.\d+)?)(?:\.\d+)*(?: Mobile/\w+)? Safari/", "Safari"),
)
_PLATFORMS: tuple[tuple[str, str], ...] = (
    (r"Android", "Android"),
    (r"iPhone|iPad|iOS", "iOS"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh|Darwin|macOS", "macOS"),
    (r"CrOS", "ChromeOS"),
    (r"Linux|X11|debian|ubuntu|fedora", "Linux"),
    (r"FreeBSD|OpenBSD", "BSD"),
)
MAX_LENGTH = 255


@dataclass(frozen=True, slots=True)
class DeviceSoftware:
    client: str | None  # "Firefox", "sfs", "Nextcloud desktop"; None when not recognised
    version: str | None
    platform: str | None

    @property
    def known(self) -> bool:
        return self.client is not None or self.platform is not None


def describe(user_agent: str | None) -> DeviceSoftware:
    """The client, version and platform a User-Agent names, as far as it names them."""
    text = (user_agent or "")[:MAX_LENGTH]
    client = version = platform = None
    for pattern, name in _CLIENTS:
        found = re.search(pattern, text)
        if found:
            matched = next(group for group in found.groups() if group is not None)
            client, version = name, matched[:32]
            break
    for pattern, name in _PLATFORMS:
        if re.search(pattern, text, re.IGNORECASE):
            platform = name
            break
    return DeviceSoftware(client=client, version=version, platform=platform)


def readable(user_agent: str | None, gettext: Callable[[str], str] = str) -> str:
    """`Chrome 120 on Linux`, `sfs CLI 0.2.0 on Linux`: for a person; the raw string when unknown.

    Browsers report a major version only (that is what people know); clients keep theirs.
    """
    software = describe(user_agent)
    if not software.known:
        return (user_agent or "")[:80]
    name = " ".join(part for part in (software.client, software.version) if part)
    if software.platform is None:
        return name
    if not name:
        return software.platform
    return gettext(N_("%(software)s on %(platform)s")) % {
        "software": name,
        "platform": software.platform,
    }
