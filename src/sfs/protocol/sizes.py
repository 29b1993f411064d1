"""Byte counts shown to people, by one rule everywhere (the command line, its progress bars, the
portal): SI units, 1000 bytes to the kB, as drives and networks are sold and as the progress bars
(rich) count. 3,000,000 bytes are "3.0 MB" in `sfs ls`, in a pass's summary and on the Files page.
"""

from __future__ import annotations

UNITS = ("kB", "MB", "GB", "TB", "PB")


def scaled(count: int) -> tuple[float, str]:
    """The number and unit to show: (999, "B"), (1.5, "kB"), (3.0, "MB"); one decimal's worth
    of rounding never shows "1000.0 kB" (that is "1.0 MB")."""
    if count < 1000:
        return float(count), "B"
    value = float(count)
    for unit in UNITS:
        value /= 1000
        if round(value, 1) < 1000 or unit == UNITS[-1]:
            return value, unit
    raise AssertionError("unreachable")


def byte_size(count: int) -> str:
    """`3_000_000` → '3.0 MB'; under a kB, in bytes: '512 B'."""
    value, unit = scaled(count)
    return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
