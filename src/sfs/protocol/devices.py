"""What the native client and the server agree on about devices."""

from __future__ import annotations

# A sync client names the space it keeps in sync on every call (percent-encoded UTF-8), for the
# server's Devices page ("synced folders").
SYNCED_SPACE_HEADER = "X-SFS-Synced-Space"
# A wiped device's token is refused with this code on every call but the wipe check and its
# confirmation.
DEVICE_WIPED = "device_wiped"
