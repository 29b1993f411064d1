"""The chunk-level calls the sync client uses: which chunks are missing, put, get, commit."""

from __future__ import annotations

import base64
import uuid
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Query, Request, Response, status
from starlette.requests import ClientDisconnect
from starlette.responses import StreamingResponse

from sfs.app import Services
from sfs.domain.actor import Actor
from sfs.domain.errors import InvalidInput, SfsError
from sfs.protocol.chunk_frames import BATCH_MAX_BYTES, FrameReader
from sfs.protocol.limits import MAX_SEQUENCE
from sfs.services.files.nodes import NodeView
from sfs.services.files.versions import BaseRun, CommitRequest, ManifestEntry
from sfs.web.api.deps import ActorDep, AuthenticatedDep, ClientDep, ServicesDep
from sfs.web.api.params import ChunkId, SpaceRef
from sfs.web.api.ranges import VersionQuery
from sfs.web.api.responses import CHUNK_UPLOAD, SPACE_READ, SPACE_WRITE, problems
from sfs.web.api.schemas import Problem
from sfs.web.api.schemas_files import (
    BaseRunIn,
    ChangeOut,
    ChangesOut,
    ChunkBatchOut,
    ChunkIds,
    ChunkingOut,
    ChunkTierOut,
    CommitBatchBody,
    CommitBatchOut,
    CommitBody,
    CommitResult,
    FetchChunkIds,
    FileManifestOut,
    ManifestEntryOut,
    ManifestOut,
    ManifestsBody,
    ManifestsOut,
    MissingChunks,
    NodeOut,
    SnapshotOut,
)
from sfs.web.api.threaded_body import BodyParsedInThread
from sfs.web.errors import error_body

# Bodies are parsed off the event loop: a commit may carry a large manifest.
router = APIRouter(tags=["sync"], route_class=BodyParsedInThread)

# The chunk calls work in the caller's organisation: a provider administrator has none (404).
_CHUNKS = problems(404, 422)
_BINARY_BODY = {  # read from the request stream by the handler, so FastAPI cannot document it
    "required": False,  # an empty chunk, or an empty batch, is one
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}


@router.get("/chunking", response_model=ChunkingOut, responses=problems(422))
def chunking(actor: ActorDep, services: ServicesDep) -> ChunkingOut:
    """How the caller's organisation cuts and names chunks, so a client can do it itself."""
    if actor.organization_id is None:
        raise InvalidInput("Provider administrators have no files.")
    keys = services.keyring.keys_for(actor.organization_id)
    sizes = services.chunk_store.sizes
    return ChunkingOut(
        min_size=sizes.smallest.min_size,
        avg_size=sizes.smallest.avg_size,
        max_size=sizes.smallest.max_size,
        tiers=[
            ChunkTierOut(
                from_size=tier.from_size,
                min_size=tier.params.min_size,
                avg_size=tier.params.avg_size,
                max_size=tier.params.max_size,
            )
            for tier in sizes.tiers
        ],
        chunk_id_key=base64.b64encode(keys.chunk_id_key).decode(),
        seed=keys.chunking_seed,
        batch_max_bytes=BATCH_MAX_BYTES,
    )


@router.post("/chunks/missing", response_model=MissingChunks, responses=_CHUNKS)
def missing_chunks(body: ChunkIds, actor: ActorDep, services: ServicesDep) -> MissingChunks:
    """Which of these chunk ids the server lacks (send only those)."""
    return MissingChunks(missing=services.file_versions.missing_chunks(actor, body.chunk_ids))


@router.put(
    "/chunks/{chunk_id:chunk_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_CHUNKS, **CHUNK_UPLOAD, **problems(507)},
    openapi_extra={"requestBody": _BINARY_BODY},
)
async def put_chunk(
    chunk_id: ChunkId, request: Request, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> Response:
    """Store one chunk; its content must hash to its id. Storing a known chunk is a no-op."""
    with services.upload_slots.hold(actor, client):
        data = await request.body()
        await anyio.to_thread.run_sync(services.file_content.put_chunks, actor, [(chunk_id, data)])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/chunks/{chunk_id:chunk_id}",
    responses={**_CHUNKS, 200: {"content": {"application/octet-stream": {}}}},
)
def get_chunk(chunk_id: ChunkId, actor: ActorDep, services: ServicesDep) -> Response:
    data = services.file_content.get_chunk(actor, chunk_id)
    return Response(data, media_type="application/octet-stream")


@router.post("/spaces/{space}/commit", response_model=NodeOut, responses=SPACE_WRITE)
def commit(
    space: SpaceRef, body: CommitBody, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> NodeOut:
    """Make a version from a manifest of stored chunks; a stale `base_version` is 409."""
    space_id = services.spaces.resolve_reference(actor, space)
    node = services.file_versions.commit(
        actor,
        space_id=space_id,
        path=body.path,
        manifest=_expanded(services, actor, space_id, body),
        modified_at=body.modified_at,
        base_version=body.base_version,
        client=client,
        device_name=body.device_name,
    )
    return NodeOut.of(node)


@router.post(
    "/chunks/batch",
    response_model=ChunkBatchOut,
    responses={**_CHUNKS, **CHUNK_UPLOAD, **problems(507)},
    openapi_extra={"requestBody": _BINARY_BODY},
)
async def put_chunks(
    request: Request, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> ChunkBatchOut:
    """Store many small chunks in one request (up to `batch_max_bytes` of `/chunking`).

    The body is the chunks back to back, each as its 32-byte id, its length as a 4-byte
    big-endian number, then its bytes. Every chunk must hash to its id, or nothing is stored.
    """
    with services.upload_slots.hold(actor, client):
        return await _put_chunks(request, actor, services)


async def _put_chunks(request: Request, actor: Actor, services: Services) -> ChunkBatchOut:
    reader = FrameReader()
    chunks: list[tuple[str, bytes | memoryview]] = []
    try:
        async for block in request.stream():
            chunks += reader.feed_views(block)
    except ClientDisconnect:
        # The client went away mid-batch (killed, or its network dropped): keep the chunks
        # that arrived whole, so its resumed upload need not send them again.
        if chunks:
            await anyio.to_thread.run_sync(services.file_content.put_chunks, actor, chunks)
        raise
    try:
        reader.finish()
    except ValueError as cut_short:
        raise InvalidInput(str(cut_short), field="body") from None
    stored = await anyio.to_thread.run_sync(services.file_content.put_chunks, actor, chunks)
    return ChunkBatchOut(stored=stored)


@router.post("/spaces/{space}/commit-batch", response_model=CommitBatchOut, responses=SPACE_WRITE)
def commit_batch(
    space: SpaceRef,
    body: CommitBatchBody,
    actor: ActorDep,
    services: ServicesDep,
    client: ClientDep,
) -> CommitBatchOut:
    """Many commits in one round trip; each entry succeeds or fails on its own."""
    space_id = services.spaces.resolve_reference(actor, space)
    outcomes: list[NodeView | SfsError] = []
    requests: list[CommitRequest] = []
    for entry in body.commits:
        try:
            manifest = _expanded(services, actor, space_id, entry)
        except SfsError as refused:  # this entry alone is refused
            outcomes.append(refused)
            continue
        outcomes.append(_COMMITTED_BELOW)
        requests.append(
            CommitRequest(
                path=entry.path,
                manifest=manifest,
                modified_at=entry.modified_at,
                base_version=entry.base_version,
                device_name=entry.device_name,
            )
        )
    committed = iter(
        services.file_versions.commit_many(
            actor, space_id=space_id, requests=requests, client=client
        )
    )
    outcomes = [next(committed) if o is _COMMITTED_BELOW else o for o in outcomes]
    return CommitBatchOut(
        results=[
            CommitResult(path=entry.path, error=Problem(**error_body(r.code, r.message)))
            if isinstance(r, SfsError)
            else CommitResult(path=entry.path, node=NodeOut.of(r))
            for entry, r in zip(body.commits, outcomes, strict=True)
        ]
    )


_COMMITTED_BELOW = SfsError("placeholder for an entry handed to commit_many")


@router.get(
    "/spaces/{space}/changes",
    response_model=ChangesOut,
    responses={**SPACE_READ, **problems(409)},  # 409: a cursor the journal no longer answers
)
async def changes(
    space: SpaceRef,
    authenticated: AuthenticatedDep,
    services: ServicesDep,
    cursor: Annotated[
        int, Query(ge=0, le=MAX_SEQUENCE, description="the last sequence number you have")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    wait: Annotated[
        float, Query(ge=0, le=60, description="seconds to wait for a change when none is new")
    ] = 0,
) -> ChangesOut:
    """The space's changes after `cursor`, oldest first; with `wait`, a long poll (answered 401
    within seconds when the device is revoked or wiped while it waits)."""
    actor, token_id = authenticated
    space_id = await anyio.to_thread.run_sync(services.spaces.resolve_reference, actor, space)
    # A long poll waits on the event loop, not in a worker thread: thousands may wait at once.
    page = await services.changes.wait_async(
        actor,
        space_id=space_id,
        cursor=cursor,
        timeout=wait,
        limit=limit,
        still_allowed=lambda: services.device_tokens.require_live(token_id),
    )
    return ChangesOut(
        changes=[ChangeOut(**vars(change)) for change in page.changes],
        cursor=page.cursor,
        more=page.more,
    )


@router.get("/spaces/{space}/snapshot", response_model=SnapshotOut, responses=SPACE_READ)
def snapshot(space: SpaceRef, actor: ActorDep, services: ServicesDep) -> SnapshotOut:
    """Every live file and folder with its path, and the cursor they are current at."""
    space_id = services.spaces.resolve_reference(actor, space)
    cursor, nodes = services.file_tree.snapshot(actor, space_id=space_id)
    return SnapshotOut(cursor=cursor, nodes=[NodeOut.of(node) for node in nodes])


@router.get("/spaces/{space}/manifest", response_model=ManifestOut, responses=SPACE_READ)
def manifest(
    space: SpaceRef,
    path: Annotated[str, Query(max_length=4096)],
    actor: ActorDep,
    services: ServicesDep,
    version: VersionQuery = None,
) -> ManifestOut:
    """A version's chunk ids and sizes, in order (the current version by default)."""
    space_id = services.spaces.resolve_reference(actor, space)
    node, number, entries = services.file_versions.manifest(
        actor, space_id=space_id, path=path, number=version
    )
    return ManifestOut(
        node=NodeOut.of(node),
        version=number,
        chunks=[ManifestEntryOut(chunk_id=e.chunk_id, size=e.size) for e in entries],
    )


@router.post("/spaces/{space}/manifests", response_model=ManifestsOut, responses=SPACE_READ)
def manifests(
    space: SpaceRef, body: ManifestsBody, actor: ActorDep, services: ServicesDep
) -> ManifestsOut:
    """Many files' chunk lists in one round trip, by node id (and version, else the current
    one); each file is answered or refused on its own."""
    space_id = services.spaces.resolve_reference(actor, space)
    outcomes = services.file_versions.manifests(
        actor, space_id=space_id, wanted=[(f.node_id, f.version) for f in body.files]
    )
    return ManifestsOut(
        results=[
            FileManifestOut(node_id=f.node_id, error=Problem(**error_body(r.code, r.message)))
            if isinstance(r, SfsError)
            else FileManifestOut(
                node_id=r.node_id,
                version=r.version,
                size=r.size,
                modified_at=r.modified_at,
                content_digest=r.content_digest,
                chunks=[ManifestEntryOut(chunk_id=c, size=n) for c, n in r.chunks],
            )
            for f, r in zip(body.files, outcomes, strict=True)
        ]
    )


@router.post(
    "/chunks/fetch",
    responses={**_CHUNKS, 200: {"content": {"application/octet-stream": {}}}},
)
def fetch_chunks(body: FetchChunkIds, actor: ActorDep, services: ServicesDep) -> StreamingResponse:
    """Several chunks in one answer, framed like `/chunks/batch` (id, 4-byte length, bytes).

    Streamed: every id is checked before the first byte (a refusal is a whole 404 or 422), then
    the chunks are read from the store as they are sent, not gathered in memory first."""
    fetched = services.file_content.fetch_chunks(actor, body.chunk_ids, _SEND_BLOCK)
    # With its length said, the answer's blocks go to the socket as they are (a chunked
    # answer's every block was copied once more to be framed as an HTTP chunk).
    return StreamingResponse(
        fetched.blocks,
        media_type="application/octet-stream",
        headers={"Content-Length": str(fetched.length)},
    )


# Framed chunks are sent in blocks of about this size: one send (and one worker-thread hop) per
# 4 KiB chunk made a fetch of small files 2.5 times slower than building the answer whole.
_SEND_BLOCK = 1 << 20


def _expanded(
    services: Services, actor: Actor, space_id: uuid.UUID, body: CommitBody
) -> list[ManifestEntry]:
    items = [
        BaseRun(item.from_base, item.count)
        if isinstance(item, BaseRunIn)
        else ManifestEntry(item.chunk_id, item.size)
        for item in body.manifest
    ]
    return services.file_versions.expand(
        actor, space_id=space_id, path=body.path, base_version=body.base_version, items=items
    )
