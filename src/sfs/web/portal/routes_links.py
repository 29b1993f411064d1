"""The public pages of a share link, `/s/<token>`: no login, everything checked by
`services/sharing/link_access.py` at every request.

Downloads honour one `Range` (206, or 416 past the end; see `web/byte_ranges.py`) and
`If-Range`; only a request starting at byte 0 counts against a download limit. Downloads are
always attachments (`application/octet-stream`), so an HTML or SVG file never
runs on the portal's origin. Previews (images, PDF, plain text only) carry
`Content-Security-Policy: sandbox`, which gives them an origin of their own, with nothing to
load; text is served as text/plain.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import quote

import anyio.to_thread
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile

from sfs.domain.errors import (
    AuthenticationFailed,
    LinkPasswordRequired,
    NotFound,
    PermissionDenied,
    SfsError,
    TooManyAttempts,
)
from sfs.i18n import N_
from sfs.services.files.content import ByteRange, Download
from sfs.services.files.nodes import NodeView
from sfs.services.sharing.link_access import LinkInfo
from sfs.web.byte_ranges import content_range, parse_byte_range
from sfs.web.errors import headers_for, status_for
from sfs.web.portal.form_prefix import leading_field
from sfs.web.portal.rendering import render
from sfs.web.portal.session import (
    ANONYMOUS_CSRF_COOKIE,
    anonymous_csrf_token,
    client_of,
    services_of,
    set_anonymous_csrf_cookie,
    shown_session,
    tokens_match,
)

router = APIRouter(include_in_schema=False)

ACCESS_COOKIE = "sfs_link"
MAX_FILES_PER_DROP = 100
PREVIEW_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "txt": "text/plain; charset=utf-8",
    "md": "text/plain; charset=utf-8",
    "csv": "text/plain; charset=utf-8",
    "log": "text/plain; charset=utf-8",
}
PREVIEW_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; "
    "style-src 'unsafe-inline'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "private, no-store",
}
TITLES = {
    403: N_("Not allowed"),
    404: N_("Link not found"),
    410: N_("This link is no longer available"),
    413: N_("Too large to download at once"),
    429: N_("Too many attempts"),
}


def preview_kind(name: str) -> str | None:
    """image, pdf or text for what the page may show inline; None for anything else (SVG and
    HTML included: those are only ever downloaded)."""
    media = PREVIEW_TYPES.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None
    if media is None:
        return None
    return "image" if media.startswith("image/") else "pdf" if "pdf" in media else "text"


def _problem_page(request: Request, problem: SfsError) -> Response:
    status = status_for(problem)
    response = render(
        request,
        "link_problem.html",
        {
            # A signed-in visitor keeps the top bar and the language chosen on My account.
            "session": shown_session(request),
            "title": TITLES.get(status, N_("Something went wrong")),
            "message": problem.message,
        },
        status_code=status,
    )
    response.headers.update(headers_for(problem))
    response.headers["Cache-Control"] = "no-store"
    return response


def _access_key(request: Request) -> str | None:
    return request.cookies.get(ACCESS_COOKIE)


def _page(
    request: Request,
    token: str,
    info: LinkInfo,
    status_code: int = 200,
    sub_path: str = "",
    **context: object,
) -> Response:
    csrf = anonymous_csrf_token(request)
    response = render(
        request,
        "link.html",
        {
            "session": shown_session(request),
            "info": info,
            "token": token,
            "base": f"/s/{token}",
            "csrf_token": csrf,
            "sub_path": sub_path,
            "crumbs": _crumbs(sub_path),
            "preview": preview_kind(info.name) if info.downloads_left is None else None,
            **context,
        },
        status_code=status_code,
    )
    set_anonymous_csrf_cookie(response, request, csrf)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's URL
    return response


def _crumbs(sub_path: str) -> list[tuple[str, str]]:
    parts = [part for part in sub_path.split("/") if part]
    return [(part, "/".join(parts[: index + 1])) for index, part in enumerate(parts)]


@router.get("/s/{token}")
@router.get("/s/{token}/browse/{sub_path:path}")
def link_page(request: Request, token: str, sub_path: str = "") -> Response:
    access = services_of(request).link_access
    client = client_of(request)
    try:
        info = access.info(token, client=client)
        if access.needs_password(token, _access_key(request), client=client):
            return _page(request, token, info, needs_password=True)
        if info.upload_only:
            return _page(request, token, info, uploaded=request.query_params.getlist("added"))
        listing = (
            access.listing(token, _access_key(request), sub_path, client=client)
            if info.kind == "folder"
            else []
        )
    except SfsError as problem:
        return _problem_page(request, problem)
    return _page(request, token, info, sub_path=sub_path, listing=listing)


@router.post("/s/{token}/unlock")
def unlock(
    request: Request,
    token: str,
    password: Annotated[str, Form(max_length=2048)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    access = services_of(request).link_access
    client = client_of(request)
    try:
        info = access.info(token, client=client)
        if not tokens_match(request.cookies.get(ANONYMOUS_CSRF_COOKIE), csrf_token):
            return _page(
                request,
                token,
                info,
                403,
                needs_password=True,
                error=N_("Your form expired. Please try again."),
            )
        key = access.unlock(token, password, client=client)
    except AuthenticationFailed as wrong:
        return _page(request, token, info, 401, needs_password=True, error=wrong.message)
    except TooManyAttempts as problem:
        return _problem_page(request, problem)
    except SfsError as problem:
        return _problem_page(request, problem)
    response = RedirectResponse(f"/s/{token}", status_code=303)
    response.set_cookie(
        ACCESS_COOKIE,
        key,
        path=f"/s/{token}",
        httponly=True,
        samesite="lax",
        secure=services_of(request).settings.served_over_https,
    )
    return response


def _attachment(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name)}"


def _streamed(download: Download, headers: dict[str, str], media_type: str) -> Response:
    body = download.body
    first = next(body, b"")  # damage found at once becomes an error page, not a torn file

    def chained() -> Iterator[bytes]:
        yield first
        yield from body

    headers = {**headers, "Content-Length": str(download.node.size), "Cache-Control": "no-store"}
    status = 200
    if download.byte_range is not None:
        status = 206
        headers["Content-Length"] = str(download.byte_range.length)
        headers["Content-Range"] = content_range(download.byte_range, download.node.size)
    return StreamingResponse(chained(), status_code=status, headers=headers, media_type=media_type)


@router.get("/s/{token}/download")
@router.get("/s/{token}/download/{sub_path:path}")
def download(request: Request, token: str, sub_path: str = "") -> Response:
    access = services_of(request).link_access

    def wanted(node: NodeView) -> ByteRange | None:
        if request.headers.get("if-range") not in (None, _etag(node)):
            return None  # changed since the client's first part: the whole file again
        return parse_byte_range(request.headers.get("range"), node.size)

    try:
        got = access.download(
            token, _access_key(request), sub_path, client=client_of(request), choose_range=wanted
        )
        headers = {
            "Content-Disposition": _attachment(got.node.name),
            "Accept-Ranges": "bytes",
            "ETag": _etag(got.node),
        }
        return _streamed(got, headers, "application/octet-stream")
    except SfsError as problem:
        return _problem_page(request, problem)


def _etag(node: NodeView) -> str:
    return f'"{node.etag}"'


@router.get("/s/{token}/preview")
@router.get("/s/{token}/preview/{sub_path:path}")
def preview(request: Request, token: str, sub_path: str = "") -> Response:
    access = services_of(request).link_access
    try:
        name = sub_path.rsplit("/", 1)[-1] or access.info(token, client=client_of(request)).name
        media = PREVIEW_TYPES.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None
        if media is None:
            raise NotFound(N_("This file has no preview; download it instead."))
        got = access.preview(token, _access_key(request), sub_path, client=client_of(request))
        disposition = f"inline; filename*=UTF-8''{quote(got.node.name)}"
        return _streamed(got, {**PREVIEW_HEADERS, "Content-Disposition": disposition}, media)
    except SfsError as problem:
        return _problem_page(request, problem)


@router.get("/s/{token}/zip")
@router.get("/s/{token}/zip/{sub_path:path}")
def zip_folder(request: Request, token: str, sub_path: str = "") -> Response:
    access = services_of(request).link_access
    try:
        name, body = access.zip_folder(
            token, _access_key(request), sub_path, client=client_of(request)
        )
    except SfsError as problem:
        return _problem_page(request, problem)
    headers = {"Content-Disposition": _attachment(name), "Cache-Control": "no-store"}
    return StreamingResponse(body, headers=headers, media_type="application/zip")


@router.post("/s/{token}/upload")
async def drop(request: Request, token: str) -> Response:
    """Files into an upload-only (or can-edit) folder link: a multipart form, the CSRF token
    its first field, read before any file; the size cap is BodyGuard's form limit."""
    access = services_of(request).link_access
    client = client_of(request)
    submitted, request = await leading_field(request, "csrf_token")
    if not tokens_match(request.cookies.get(ANONYMOUS_CSRF_COOKIE), submitted):
        return _problem_page(
            request,
            PermissionDenied(N_("Your form expired. Please reload the page and try again.")),
        )
    key = _access_key(request)
    added: list[str] = []
    try:
        async with request.form(max_files=MAX_FILES_PER_DROP, max_fields=5) as form:
            files = [
                part
                for part in form.getlist("files")
                if isinstance(part, UploadFile) and part.filename
            ]
            for part in files:

                def store(part: UploadFile = part) -> str:
                    return access.upload(
                        token,
                        key,
                        name=part.filename or "",
                        source=iter(lambda: part.file.read(1 << 20), b""),
                        client=client,
                        declared_size=part.size,
                    )

                added.append(await anyio.to_thread.run_sync(store))
    except LinkPasswordRequired:
        return RedirectResponse(f"/s/{token}", status_code=303)
    except SfsError as problem:
        info = await anyio.to_thread.run_sync(lambda: _info_or_none(request, token))
        if info is None:
            return _problem_page(request, problem)
        response = _page(
            request, token, info, status_for(problem), error=problem.message, uploaded=added
        )
        response.headers.update(headers_for(problem))
        return response
    query = "&".join(f"added={quote(name)}" for name in added)
    return RedirectResponse(f"/s/{token}?{query}", status_code=303)


def _info_or_none(request: Request, token: str) -> LinkInfo | None:
    try:
        return services_of(request).link_access.info(token, client=client_of(request))
    except SfsError:
        return None
