"""Files: browse, create folders, upload and download content, move, copy, trash, versions.

Spaces are addressed by id, or `me` for the caller's My Files. Every call is scoped by the
service layer to spaces the caller may reach; anything else is 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

import anyio.to_thread
from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import TypeAdapter
from typing_extensions import TypedDict  # pydantic needs it before Python 3.12

from sfs.app import Services
from sfs.domain.actor import Actor
from sfs.domain.errors import InvalidInput, SfsError
from sfs.protocol.limits import MAX_VERSION
from sfs.services.files.content_upload import ContentUpload, UploadTarget
from sfs.services.files.nodes import NodeView
from sfs.web.api.deps import ActorDep, ClientDep, ServicesDep
from sfs.web.api.params import SpaceRef
from sfs.web.api.ranges import FileTimeQuery, VersionQuery
from sfs.web.api.responses import CONTENT_UPLOAD, SPACE_READ, SPACE_WRITE, problems
from sfs.web.api.schemas import Problem
from sfs.web.api.schemas_files import (
    FolderResult,
    FoldersBody,
    FoldersOut,
    MoveBody,
    NodeOut,
    PathBody,
    RestoreVersionBody,
    SpaceOut,
    VersionOut,
)
from sfs.web.byte_ranges import content_range, parse_byte_range, unsatisfied_range
from sfs.web.errors import error_body
from sfs.web.streamed_uploads import receive_into

router = APIRouter(tags=["files"])

# Read from the request stream by the handler, so FastAPI cannot see it to document it.
_BINARY_BODY = {
    "required": False,  # an empty file is a file
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}
PathQuery = Annotated[str, Query(max_length=4096, description="'/' separated path")]


@router.get("/spaces", response_model=list[SpaceOut], responses=problems(403))
def list_spaces(actor: ActorDep, services: ServicesDep) -> list[SpaceOut]:
    return [SpaceOut.of(space) for space in services.spaces.list_spaces(actor)]


@router.get("/spaces/{space}/children", response_model=list[NodeOut], responses=SPACE_READ)
def list_folder(
    space: SpaceRef, actor: ActorDep, services: ServicesDep, path: PathQuery = "/"
) -> Response:
    # Also answered before FastAPI, without its dependencies, when the caller's token was
    # checked moments ago (web/api/listing_shortcut.py): the same function, the same bytes.
    return Response(children_json(services, actor, space, path), media_type="application/json")


def children_json(services: Services, actor: Actor, space: str, path: str) -> bytes:
    """A folder's children as the listing sends them (raises the service's errors)."""
    space_id = services.spaces.resolve_reference(actor, space)
    children = services.listing.children(actor, space_id=space_id, path=path)
    # Serialised here, once, from plain dicts: FastAPI would validate models of what the
    # service built against response_model again before dumping them (a listing's JSON is the
    # same, field for field: NodeJson mirrors NodeOut, and a test compares the two).
    return NODE_LIST.dump_json([node_json(v) for v in children])


class NodeJson(TypedDict):
    """NodeOut as a dict, for dumping many without building a model each."""

    id: uuid.UUID
    name: str
    path: str
    kind: str
    size: int
    modified_at: datetime
    version: int | None
    etag: str | None
    deleted_at: datetime | None


NODE_LIST = TypeAdapter(list[NodeJson])


def node_json(view: NodeView) -> NodeJson:
    return {
        "id": view.id,
        "name": view.name,
        "path": view.path,
        "kind": view.kind,
        "size": view.size,
        "modified_at": view.modified_at,
        "version": view.version,
        "etag": view.content_digest,
        "deleted_at": view.deleted_at,
    }


@router.get("/spaces/{space}/node", response_model=NodeOut, responses=SPACE_READ)
def stat(space: SpaceRef, path: PathQuery, actor: ActorDep, services: ServicesDep) -> NodeOut:
    space_id = services.spaces.resolve_reference(actor, space)
    return NodeOut.of(services.file_tree.stat(actor, space_id=space_id, path=path))


@router.post(
    "/spaces/{space}/folders", response_model=NodeOut, status_code=201, responses=SPACE_WRITE
)
def create_folder(
    space: SpaceRef, body: PathBody, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> NodeOut:
    space_id = services.spaces.resolve_reference(actor, space)
    return NodeOut.of(
        services.file_tree.create_folder(actor, space_id=space_id, path=body.path, client=client)
    )


@router.post("/spaces/{space}/folders/batch", response_model=FoldersOut, responses=SPACE_WRITE)
def create_folders(
    space: SpaceRef, body: FoldersBody, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> FoldersOut:
    """Many folders in one round trip (parents before children); each stands or falls alone,
    and one that exists already is answered as it is."""
    space_id = services.spaces.resolve_reference(actor, space)
    outcomes = services.file_tree.create_folders(
        actor, space_id=space_id, paths=body.paths, client=client
    )
    return FoldersOut(
        results=[
            FolderResult(path=path, error=Problem(**error_body(r.code, r.message)))
            if isinstance(r, SfsError)
            else FolderResult(path=path, node=NodeOut.of(r))
            for path, r in zip(body.paths, outcomes, strict=True)
        ]
    )


@router.put(
    "/spaces/{space}/content",
    response_model=NodeOut,
    responses={**SPACE_WRITE, **CONTENT_UPLOAD},
    openapi_extra={"requestBody": _BINARY_BODY},
)
async def upload(
    space: SpaceRef,
    path: PathQuery,
    request: Request,
    actor: ActorDep,
    services: ServicesDep,
    client: ClientDep,
    base_version: Annotated[
        int | None, Query(ge=1, le=MAX_VERSION, description="the version replaced")
    ] = None,
    modified_at: FileTimeQuery = None,
    device_name: Annotated[str | None, Query(max_length=100)] = None,
) -> NodeOut:
    """Upload a whole file as the request body (streamed; any size; memory stays flat).

    At most `SFS_UPLOADS_PER_ACCOUNT` uploads per account and `SFS_UPLOADS_PER_ADDRESS` per
    client address at once (else 429 with Retry-After); a body idle for
    `SFS_REQUEST_BODY_IDLE_SECONDS` is answered 408 and nothing is committed.

    A new file needs no `base_version`; replacing one needs the version it replaces, else 409.
    """
    declared = request.headers.get("content-length")

    def start() -> ContentUpload:
        target = UploadTarget(
            # A Viewer is refused before any byte is stored, not at the commit.
            space_id=services.spaces.resolve_reference(actor, space, write=True),
            path=path,
            modified_at=modified_at or services.clock.now(),
            base_version=base_version,
            client=client,
            device_name=device_name,
        )
        size = int(declared) if declared and declared.isdigit() else None
        return services.file_content.start_upload(actor, target, declared_size=size)

    with services.upload_slots.hold(actor, client):
        upload = await anyio.to_thread.run_sync(start)
        return NodeOut.of(await receive_into(request, upload))


@router.get(
    "/spaces/{space}/content",
    responses={**SPACE_READ, **problems(416), 200: {"content": {"application/octet-stream": {}}}},
    response_class=StreamingResponse,
)
def download(
    space: SpaceRef,
    path: PathQuery,
    request: Request,
    actor: ActorDep,
    services: ServicesDep,
    version: VersionQuery = None,
) -> Response:
    """Download a file (or one of its versions); supports `Range` and `If-None-Match`."""
    space_id = services.spaces.resolve_reference(actor, space)
    node = services.file_tree.stat(actor, space_id=space_id, path=path)
    if node.kind != "file":
        raise InvalidInput(f"{node.path} is a folder, not a file.", field="path")
    byte_range = parse_byte_range(request.headers.get("range"), node.size)
    etag = None
    if version is None and node.content_digest:
        etag = f'"{node.content_digest}"'
        if request.headers.get("if-none-match") in (etag, "*"):
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    try:
        download = services.file_content.download(
            actor, space_id=space_id, path=path, version=version, byte_range=byte_range
        )
    except InvalidInput as exc:
        if exc.field == "range":
            return Response(
                status_code=416, headers={"Content-Range": unsatisfied_range(node.size)}
            )
        raise
    body = download.body
    # Read the first piece now, so damage found at once becomes a proper error answer.
    first = next(body, b"")
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": _attachment(node.name)}
    if etag:
        headers["ETag"] = etag
    code = status.HTTP_200_OK
    length = download.node.size if version is None else None
    if download.byte_range is not None:
        code = status.HTTP_206_PARTIAL_CONTENT
        r = download.byte_range
        headers["Content-Range"] = content_range(r, node.size)
        length = r.length
    if length is not None:
        headers["Content-Length"] = str(length)

    def chained() -> Iterator[bytes]:
        yield first
        yield from body

    return StreamingResponse(
        chained(), status_code=code, headers=headers, media_type="application/octet-stream"
    )


@router.post("/spaces/{space}/move", response_model=NodeOut, responses=SPACE_WRITE)
def move(
    space: SpaceRef, body: MoveBody, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> NodeOut:
    space_id = services.spaces.resolve_reference(actor, space)
    return NodeOut.of(
        services.file_tree.move(
            actor, space_id=space_id, source=body.source, target=body.target, client=client
        )
    )


@router.post("/spaces/{space}/copy", response_model=NodeOut, status_code=201, responses=SPACE_WRITE)
def copy(
    space: SpaceRef, body: MoveBody, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> NodeOut:
    space_id = services.spaces.resolve_reference(actor, space)
    return NodeOut.of(
        services.file_tree.copy(
            actor, space_id=space_id, source=body.source, target=body.target, client=client
        )
    )


@router.delete("/spaces/{space}/node", status_code=204, responses=SPACE_WRITE)
def delete(
    space: SpaceRef, path: PathQuery, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> None:
    """Move to the trash."""
    space_id = services.spaces.resolve_reference(actor, space)
    services.file_tree.delete(actor, space_id=space_id, path=path, client=client)


@router.get("/spaces/{space}/versions", response_model=list[VersionOut], responses=SPACE_READ)
def list_versions(
    space: SpaceRef, path: PathQuery, actor: ActorDep, services: ServicesDep
) -> list[VersionOut]:
    space_id = services.spaces.resolve_reference(actor, space)
    return [
        VersionOut.of(v)
        for v in services.file_versions.list_versions(actor, space_id=space_id, path=path)
    ]


@router.post("/spaces/{space}/versions/restore", response_model=NodeOut, responses=SPACE_WRITE)
def restore_version(
    space: SpaceRef,
    body: RestoreVersionBody,
    actor: ActorDep,
    services: ServicesDep,
    client: ClientDep,
) -> NodeOut:
    space_id = services.spaces.resolve_reference(actor, space)
    return NodeOut.of(
        services.file_versions.restore_version(
            actor, space_id=space_id, path=body.path, number=body.number, client=client
        )
    )


@router.get("/spaces/{space}/trash", response_model=list[NodeOut], responses=SPACE_READ)
def trash(space: SpaceRef, actor: ActorDep, services: ServicesDep) -> list[NodeOut]:
    space_id = services.spaces.resolve_reference(actor, space)
    return [NodeOut.of(n) for n in services.file_tree.trash(actor, space_id=space_id)]


@router.post(
    "/spaces/{space}/trash/{node_id}/restore", response_model=NodeOut, responses=SPACE_WRITE
)
def restore_from_trash(
    space: SpaceRef, node_id: uuid.UUID, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> NodeOut:
    space_id = services.spaces.resolve_reference(actor, space)
    return NodeOut.of(
        services.file_tree.restore(actor, space_id=space_id, node_id=node_id, client=client)
    )


@router.delete("/spaces/{space}/trash/{node_id}", status_code=204, responses=SPACE_WRITE)
def purge(
    space: SpaceRef, node_id: uuid.UUID, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> None:
    """Delete from the trash for good."""
    space_id = services.spaces.resolve_reference(actor, space)
    services.file_tree.purge(actor, space_id=space_id, node_id=node_id, client=client)


def _attachment(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name)}"
