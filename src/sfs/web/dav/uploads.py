"""Chunked upload v2 at /remote.php/dav/uploads/{user}/{transfer-id}/: the WebDAV face of
`services/files/upload_sessions.py`.

    MKCOL    …/{transfer-id}          open (OC-Total-Length, Destination: optional)
    PUT      …/{transfer-id}/{n}      one part, streamed in (00001… or 0000000000000000…)
    PROPFIND …/{transfer-id}          the parts that arrived, to resume
    MOVE     …/{transfer-id}/.file    join them at the Destination (OC-Checksum, OC-Total-Length,
                                      X-OC-Mtime, If-Match as for a PUT), and end the upload
    DELETE   …/{transfer-id}          abort

`{user}` is the caller's own (as under /files/); anyone else's uploads are not found.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import quote, unquote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from sfs.app import Services
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import AlreadyExists, InvalidInput, NotFound, PreconditionFailed
from sfs.services.files.checksums import Checksum
from sfs.services.files.nodes import NodeView
from sfs.services.files.upload_sessions import JoinRequest, PartView, UploadView
from sfs.web.dav import xml
from sfs.web.dav.auth import authenticate
from sfs.web.dav.conditions import parse_if_header
from sfs.web.dav.context import DavContext, DavError, xml_response
from sfs.web.dav.mounts import rerooted
from sfs.web.dav.paths import DavPath, parse_destination
from sfs.web.dav.writes import DEVICE, before_put, client_mtime
from sfs.web.dav.xml import DAV
from sfs.web.streamed_uploads import receive_into

UPLOADS = "/remote.php/dav/uploads"
JOIN = ".file"


def is_upload_path(raw_path: str) -> bool:
    return raw_path == UPLOADS or raw_path.startswith(UPLOADS + "/")


@dataclass(frozen=True)
class UploadPath:
    base: str  # /remote.php/dav/uploads/{user}, as the client wrote it
    user: str
    transfer_id: str | None
    part: str | None


def parse_upload_path(raw_path: str) -> UploadPath:
    segments = [s for s in raw_path[len(UPLOADS) :].split("/") if s]
    if not segments or len(segments) > 3:
        raise NotFound("Nothing is served here: use /remote.php/dav/uploads/<user>/<upload>/.")
    decoded = [_decode(segment) for segment in segments]
    return UploadPath(
        base=f"{UPLOADS}/{segments[0]}",
        user=decoded[0],
        transfer_id=decoded[1] if len(decoded) > 1 else None,
        part=decoded[2] if len(decoded) > 2 else None,
    )


@dataclass(frozen=True)
class _Call:
    request: Request
    services: Services
    actor: Actor
    client: ClientInfo
    space_id: uuid.UUID
    where: UploadPath


async def answer(services: Services, request: Request, raw_path: str) -> Response:
    where = parse_upload_path(raw_path)
    client = ClientInfo(
        address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    actor, space_id = await anyio.to_thread.run_sync(
        _caller, services, request.headers.get("authorization"), client, where
    )
    call = _Call(request, services, actor, client, space_id, where)
    method = request.method.upper()
    transfer_id, part = where.transfer_id, where.part
    if method == "PROPFIND":
        return await _propfind(call)
    if transfer_id is None:
        raise DavError(405, f"{method} is not allowed on the uploads folder.")
    if method == "MKCOL" and part is None:
        return await _open(call, transfer_id)
    if method == "DELETE" and part is None:
        await anyio.to_thread.run_sync(
            lambda: services.upload_sessions.abort(actor, transfer_id=transfer_id)
        )
        return Response(status_code=204)
    if method == "PUT" and part is not None and part != JOIN:
        return await _put_part(call, transfer_id, part)
    if method == "MOVE" and part == JOIN:
        return await _join(call, transfer_id)
    if method in ("GET", "HEAD") and part is not None:
        raise DavError(403, "The parts of an upload cannot be read back.")
    raise DavError(405, f"{method} is not allowed here.")


def _caller(
    services: Services, authorization: str | None, client: ClientInfo, where: UploadPath
) -> tuple[Actor, uuid.UUID]:
    actor = authenticate(services, authorization, client)
    if not DavPath(base="", user=where.user, parts=(), trailing_slash=False).belongs_to(actor):
        raise NotFound("No such user.")  # another account's uploads are not found
    return actor, services.spaces.my_files(actor).id


async def _open(call: _Call, transfer_id: str) -> Response:
    request = call.request
    if await request.body():
        raise DavError(415, "MKCOL takes no body.")
    total = _length(request.headers.get("oc-total-length"))
    header = request.headers.get("destination")
    destination = _destination(call, header).path if header else None

    def open_upload() -> None:
        call.services.upload_sessions.open(
            call.actor,
            space_id=call.space_id,
            transfer_id=transfer_id,
            total_length=total,
            destination=destination,
        )

    try:
        await anyio.to_thread.run_sync(open_upload)
    except AlreadyExists as exists:
        raise DavError(405, exists.message) from None
    return Response(status_code=201)


async def _put_part(call: _Call, transfer_id: str, part: str) -> Response:
    if call.request.headers.get("content-range"):
        raise DavError(400, "A PUT of part of a part (Content-Range) is not supported.")
    services = call.services
    with services.upload_slots.hold(call.actor, call.client):
        upload = await anyio.to_thread.run_sync(
            lambda: services.upload_sessions.start_part(
                call.actor, transfer_id=transfer_id, name=part
            )
        )
        new = await receive_into(call.request, upload)
    return Response(status_code=201 if new else 204)


async def _join(call: _Call, transfer_id: str) -> Response:
    request = call.request
    header = request.headers.get("destination")
    if header is None:
        raise DavError(400, "Say where the file goes: a Destination header.")
    root = await anyio.to_thread.run_sync(call.services.files_root.root, call.actor)
    destination, space_id = rerooted(root, _destination(call, header), call.actor)
    if not destination.parts:
        raise DavError(403, "The top folder cannot be replaced by a file.")
    overwrite = request.headers.get("overwrite", "T").strip().upper()
    if overwrite not in ("T", "F"):
        raise DavError(400, "Overwrite must be T or F.")
    mtime = client_mtime(request.headers.get("x-oc-mtime"))
    total = _length(request.headers.get("oc-total-length"))
    checksum_header = request.headers.get("oc-checksum")
    checksum = Checksum.parse(checksum_header) if checksum_header else None
    target = DavContext(
        request=request,
        services=call.services,
        actor=call.actor,
        client=call.client,
        space_id=space_id,
        where=destination,
        conditions=parse_if_header(request.headers.get("if")),
        files_root=root,
    )

    def join() -> tuple[bool, NodeView]:
        existing = before_put(target)
        if existing is not None and overwrite == "F":
            raise PreconditionFailed(f"{destination.path} exists and Overwrite is F.")
        node = call.services.upload_sessions.join(
            call.actor,
            transfer_id=transfer_id,
            request=JoinRequest(
                space_id=space_id,
                path=destination.path,
                modified_at=mtime or call.services.clock.now(),
                base_version=existing.version if existing is not None else None,
                client=call.client,
                total_length=total,
                checksum=checksum,
                device_name=DEVICE,
            ),
        )
        return existing is None, node

    created, node = await anyio.to_thread.run_sync(join)
    etag = f'"{node.etag}"'
    headers = {"ETag": etag, "OC-ETag": etag, "OC-FileId": node.id.hex}
    if mtime is not None:
        headers["X-OC-MTime"] = "accepted"
    return Response(status_code=201 if created else 204, headers=headers)


async def _propfind(call: _Call) -> Response:
    depth = call.request.headers.get("depth", "1").strip().lower()
    if depth not in ("0", "1"):
        raise DavError(
            403 if depth == "infinity" else 400,
            "PROPFIND here answers Depth 0 or 1.",
            condition="propfind-finite-depth" if depth == "infinity" else None,
        )
    xml.parse(await call.request.body())  # well-formed or 400; every part says the same
    where, uploads = call.where, call.services.upload_sessions
    if where.transfer_id is None:
        listed = await anyio.to_thread.run_sync(lambda: uploads.uploads(call.actor))
        answers = [_folder(where.base + "/", None)]
        if depth == "1":
            answers += [_folder(_href(where, u.transfer_id), u) for u in listed]
        return xml_response(xml.multistatus(answers))
    transfer_id = where.transfer_id
    upload = await anyio.to_thread.run_sync(
        lambda: uploads.upload(call.actor, transfer_id=transfer_id)
    )
    parts = {part.name: part for part in upload.parts}
    if where.part is not None:
        found = parts.get(where.part)
        if found is None:
            raise NotFound(f"No part {where.part} in this upload.")
        return xml_response(xml.multistatus([_part(where, transfer_id, found)]))
    answers = [_folder(_href(where, transfer_id), upload)]
    if depth == "1":
        answers += [_part(where, transfer_id, part) for part in upload.parts]
    return xml_response(xml.multistatus(answers))


def _href(where: UploadPath, transfer_id: str, part: str | None = None) -> str:
    href = f"{where.base}/{quote(transfer_id, safe='')}/"
    return href if part is None else href + quote(part, safe="")


def _folder(href: str, upload: UploadView | None) -> str:
    props = xml.element((DAV, "resourcetype"), "<d:collection/>")
    if upload is not None:
        props += xml.element((DAV, "getlastmodified"), _date(upload.touched_at))
    return xml.response(href, [("200 OK", props)])


def _part(where: UploadPath, transfer_id: str, part: PartView) -> str:
    props = (
        xml.element((DAV, "resourcetype"))
        + xml.element((DAV, "getcontentlength"), str(part.size))
        + xml.element((DAV, "getlastmodified"), _date(part.received_at))
        + xml.element((DAV, "getetag"), xml.text(f'"{part.name}-{part.size}"'))
    )
    return xml.response(_href(where, transfer_id, part.name), [("200 OK", props)])


def _date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def _destination(call: _Call, header: str) -> DavPath:
    try:
        destination = parse_destination(header)
    except NotFound:
        raise DavError(502, "The Destination is not on this WebDAV server.") from None
    if not destination.belongs_to(call.actor):
        raise DavError(502, "The Destination is outside your files.")
    return destination


def _length(header: str | None) -> int | None:
    if header is None:
        return None
    value = header.strip()
    if not value.isdigit() or len(value) > 18:
        raise InvalidInput("OC-Total-Length must be a number of bytes.", field="OC-Total-Length")
    return int(value)


def _decode(segment: str) -> str:
    try:
        decoded = unquote(segment, errors="strict")
    except UnicodeDecodeError:
        raise InvalidInput("The path is not valid UTF-8.", field="path") from None
    if "/" in decoded or "\x00" in decoded:
        raise InvalidInput("A name in the path holds '/' or NUL.", field="path")
    return decoded
