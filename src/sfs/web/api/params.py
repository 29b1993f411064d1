"""Path parameters shared by the routes, with the patterns the OpenAPI document states.

A chunk id is also matched by the router itself (the `chunk_id` path convertor): `/chunks/batch`
and `/chunks/fetch` are then never taken for a chunk id, so `PUT /chunks/batch` is 405, not an
invalid id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from starlette.convertors import StringConvertor, register_url_convertor

CHUNK_ID_PATTERN = r"^[0-9a-f]{64}$"
UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class _ChunkIdConvertor(StringConvertor):
    regex = CHUNK_ID_PATTERN.strip("^$")


register_url_convertor("chunk_id", _ChunkIdConvertor())

ChunkId = Annotated[
    str, Path(pattern=CHUNK_ID_PATTERN, description="keyed BLAKE3 of the plaintext, hex")
]
SPACE_REF_PATTERN = f"^(me|{UUID_PATTERN})$"

SpaceRef = Annotated[
    str, Path(pattern=SPACE_REF_PATTERN, description="a space id, or `me` for My Files")
]
