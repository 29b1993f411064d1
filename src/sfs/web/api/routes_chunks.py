"""The chunk-level calls the sync client uses: which chunks are missing, put, get, commit."""

from __future__ import annotations

import base64
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Path, Request, Response, status

from sfs.domain.errors import InvalidInput
from sfs.services.file_versions import ManifestEntry
from sfs.web.api.deps import ActorDep, ClientDep, ServicesDep
from sfs.web.api.schemas import Problem
from sfs.web.api.schemas_files import ChunkIds, ChunkingOut, CommitBody, MissingChunks, NodeOut

router = APIRouter(tags=["sync"])

_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem} for code in (401, 404, 409, 413, 422, 507)
}
ChunkId = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


@router.get("/chunking", response_model=ChunkingOut, responses=_ERRORS)
def chunking(actor: ActorDep, services: ServicesDep) -> ChunkingOut:
    """How the caller's organisation cuts and names chunks, so a client can do it itself."""
    if actor.organization_id is None:
        raise InvalidInput("Provider administrators have no files.")
    keys = services.keyring.keys_for(actor.organization_id)
    params = services.chunk_store.params
    return ChunkingOut(
        min_size=params.min_size,
        avg_size=params.avg_size,
        max_size=params.max_size,
        chunk_id_key=base64.b64encode(keys.chunk_id_key).decode(),
        seed=keys.chunking_seed,
    )


@router.post("/chunks/missing", response_model=MissingChunks, responses=_ERRORS)
def missing_chunks(body: ChunkIds, actor: ActorDep, services: ServicesDep) -> MissingChunks:
    """Which of these chunk ids the server lacks (send only those)."""
    return MissingChunks(missing=services.file_versions.missing_chunks(actor, body.chunk_ids))


@router.put("/chunks/{chunk_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def put_chunk(
    chunk_id: ChunkId, request: Request, actor: ActorDep, services: ServicesDep
) -> Response:
    """Store one chunk; its content must hash to its id. Storing a known chunk is a no-op."""
    data = await request.body()
    await anyio.to_thread.run_sync(services.file_content.put_chunks, actor, [(chunk_id, data)])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/chunks/{chunk_id}",
    responses={**_ERRORS, 200: {"content": {"application/octet-stream": {}}}},
)
def get_chunk(chunk_id: ChunkId, actor: ActorDep, services: ServicesDep) -> Response:
    data = services.file_content.get_chunk(actor, chunk_id)
    return Response(data, media_type="application/octet-stream")


@router.post("/spaces/{space}/commit", response_model=NodeOut, responses=_ERRORS)
def commit(
    space: str, body: CommitBody, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> NodeOut:
    """Make a version from a manifest of stored chunks; a stale `base_version` is 409."""
    space_id = services.spaces.resolve_reference(actor, space)
    node = services.file_versions.commit(
        actor,
        space_id=space_id,
        path=body.path,
        manifest=[ManifestEntry(entry.chunk_id, entry.size) for entry in body.manifest],
        modified_at=body.modified_at,
        base_version=body.base_version,
        client=client,
        device_name=body.device_name,
    )
    return NodeOut.of(node)
