"""Deployment regions; they decide, for example, whether text messages may be offered."""

from __future__ import annotations

import re

from sfs.domain.errors import InvalidInput
from sfs.i18n import N_

DEFAULT_REGION = "eu"
_REGION = re.compile(r"^[a-z]{2,10}$")


def clean_region(raw: str) -> str:
    region = raw.strip().lower()
    if not _REGION.match(region):
        raise InvalidInput(
            N_(
                (
                    "Region %(raw)s is not valid: use 2 to 10 lower-case letters, such as "
                    "'eu' or 'us'."
                ),
                raw=repr(raw),
            ),
            field="region",
        )
    return region
