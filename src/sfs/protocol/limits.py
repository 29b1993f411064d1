"""The ranges both sides hold to: version numbers, sequence numbers, modification times.

The server refuses a value outside them (422, the field named); the client, which must survive
whatever a server sends, clamps into them. Defined once here, below both.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

# Version numbers are 32-bit columns on PostgreSQL.
MAX_VERSION = 2**31 - 1
# Journal sequence numbers (the sync cursor), audit event ids and list offsets are 64-bit.
MAX_SEQUENCE = 2**63 - 1

# Modification times a file may carry. From the Unix epoch: Windows and most tools cannot set an
# earlier one. Before 2200: nanoseconds since the epoch (st_mtime_ns, the sync index) stay
# within 64 bits until 2262, and Windows FILETIME, PostgreSQL and Python's datetime hold it all.
# Anything outside is a broken clock or a hostile value, not a date someone meant.
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2200, 1, 1, tzinfo=UTC)  # excluded
EARLIEST_DAY = EARLIEST_TIME.date()
LATEST_DAY = date(2199, 12, 31)
TIME_WINDOW_TEXT = "from 1970-01-01T00:00:00Z up to (not including) 2200-01-01T00:00:00Z"

_EARLIEST_SECONDS = EARLIEST_TIME.timestamp()
_LATEST_SECONDS = LATEST_TIME.timestamp() - 1  # the last whole second inside


def in_time_window(value: datetime) -> bool:
    """Whether an aware time lies in the window; a naive one never does (its zone is unknown).

    Compared without converting first: 0001-01-01T00:00+14:00 has no UTC form in Python."""
    offset = value.utcoffset()
    if offset is None:
        return False
    try:
        utc = value.replace(tzinfo=None) - offset
    except OverflowError:
        return False
    return EARLIEST_TIME.replace(tzinfo=None) <= utc < LATEST_TIME.replace(tzinfo=None)


def in_day_window(day: date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


def clamp_timestamp(seconds: float) -> float:
    """Seconds since the epoch, brought into the window: what a client may set as an mtime."""
    return min(max(seconds, _EARLIEST_SECONDS), _LATEST_SECONDS)


def clamp_time_ns(nanoseconds: int) -> int:
    """An mtime in nanoseconds (from a stat), brought into the window."""
    return min(max(nanoseconds, int(_EARLIEST_SECONDS) * 10**9), int(_LATEST_SECONDS) * 10**9)
