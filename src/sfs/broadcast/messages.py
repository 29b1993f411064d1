"""The wire form of a broadcast: the sender's instance id and the space ids, as text.

PostgreSQL caps a NOTIFY payload at 8,000 bytes, so many spaces go out in several messages.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

from sfs.ports import SpaceIds

CHANNEL = "sfs_changes"
SPACES_PER_MESSAGE = 150  # 37 bytes each: well under PostgreSQL's 8,000-byte payload

_log = logging.getLogger(__name__)


def encode(instance: str, space_ids: SpaceIds) -> Iterator[str]:
    ordered = sorted(str(space_id) for space_id in space_ids)
    for start in range(0, len(ordered), SPACES_PER_MESSAGE):
        yield instance + " " + ",".join(ordered[start : start + SPACES_PER_MESSAGE])


def decode(payload: str, own_instance: str) -> set[uuid.UUID]:
    """The spaces another instance changed; nothing for our own messages (those woke our
    waiters already) or for a payload that is not ours to read."""
    sender, _, spaces = payload.partition(" ")
    if sender == own_instance:
        return set()
    try:
        return {uuid.UUID(space) for space in spaces.split(",") if space}
    except ValueError:
        _log.warning("Ignored a change broadcast that is not a list of space ids")
        return set()


def new_instance_id() -> str:
    return uuid.uuid4().hex
