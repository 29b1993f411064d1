"""A file version's manifest as a delta against a version the client holds (sync downloads)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from sfs.protocol.limits import MAX_VERSION
from sfs.protocol.manifest_delta import encode
from sfs.web.api.deps import ActorDep, ServicesDep
from sfs.web.api.params import SpaceRef
from sfs.web.api.ranges import VersionQuery
from sfs.web.api.responses import SPACE_READ

router = APIRouter(tags=["sync"])

MEDIA_TYPE = "application/vnd.sfs.manifest-delta"


@router.get(
    "/spaces/{space}/manifest-delta",
    responses={**SPACE_READ, 200: {"content": {MEDIA_TYPE: {}}}},
    response_class=Response,
)
def manifest_delta(
    space: SpaceRef,
    node_id: Annotated[uuid.UUID, Query(description="the file wanted")],
    base_node_id: Annotated[uuid.UUID, Query(description="the file whose version you hold")],
    base_version: Annotated[
        int, Query(ge=1, le=MAX_VERSION, description="the version of it you hold")
    ],
    actor: ActorDep,
    services: ServicesDep,
    version: VersionQuery = None,
) -> Response:
    """A version's chunk list (the current one by default) as runs of the base version's list
    and the chunks between them, in the binary form of `sfs.protocol.manifest_delta`: a 1 MiB
    edit of a 1 GiB file costs a few dozen entries, not 40,000. The base is any version of a
    file you may read in this space (404 otherwise, as for a file that does not exist)."""
    space_id = services.spaces.resolve_reference(actor, space)
    delta = services.manifest_deltas.manifest_delta(
        actor,
        space_id=space_id,
        node_id=node_id,
        number=version,
        base_node_id=base_node_id,
        base_number=base_version,
    )
    return Response(encode(delta), media_type=MEDIA_TYPE)
