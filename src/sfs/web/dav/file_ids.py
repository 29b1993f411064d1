"""A file's id as the Nextcloud clients read it: `oc:fileid` is a decimal integer to them (the
Android app parses it with `toLong()`), while `oc:id` and the `OC-FileId` header stay opaque
strings. Ours are UUIDs: the number is their low 63 bits, random in a UUID4, so two of one
person's files share a number with odds of about one in 10^7 at a million files."""

from __future__ import annotations

import uuid

_LOW_63_BITS = 2**63 - 1


def numeric_file_id(node_id: uuid.UUID) -> int:
    return node_id.int & _LOW_63_BITS
