"""User-Agent headers read for people: "Chrome 120 on Linux", never the raw string."""

from __future__ import annotations

import pytest

from sfs.domain.user_agents import readable
from sfs.i18n import translator

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("header", "shown"),
    [
        (CHROME, "Chrome 120 on Linux"),
        (SAFARI_IPHONE, "Safari 17.1 on iOS"),
        (
            "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Firefox 128 on Windows",
        ),
        ("sfs-client/0.2.0 (Linux; x86_64)", "sfs CLI 0.2.0 on Linux"),
        ("sfs-sync/0.2.0 (Darwin; arm64)", "sfs sync 0.2.0 on macOS"),
        (
            "Mozilla/5.0 (Linux) mirall/3.7.3 (Nextcloud, debian) nextcloudcmd",
            "nextcloudcmd 3.7.3 on Linux",
        ),
        (
            "Mozilla/5.0 (Windows) mirall/3.9.0 (Nextcloud, windows)",
            "Nextcloud desktop 3.9.0 on Windows",
        ),
        ("rclone/v1.60.1", "rclone 1.60.1"),
        ("pytest", "pytest"),
    ],
)
def test_a_user_agent_reads_as_client_and_platform(header: str, shown: str) -> None:
    assert readable(header) == shown


def test_the_reading_speaks_the_pages_language() -> None:
    assert readable(CHROME, translator("nl")) == "Chrome 120 op Linux"
