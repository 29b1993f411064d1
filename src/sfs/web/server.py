"""The whole HTTP service: portal at /, REST API at /api/v1, static files, middleware."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from sfs import __version__
from sfs.app import Services
from sfs.config import Settings
from sfs.domain.errors import SfsError
from sfs.i18n import N_
from sfs.protocol.chunk_frames import BATCH_MAX_BYTES
from sfs.web import operations
from sfs.web.api.app import api_mount, create_api
from sfs.web.api.listing_shortcut import FolderListingShortcut
from sfs.web.dav.app import DavDoor
from sfs.web.dav.xml import MAX_XML_BYTES
from sfs.web.errors import headers_for, status_for
from sfs.web.lifespan import lifespan_for
from sfs.web.middleware import BodyGuard, SecurityHeaders
from sfs.web.observation import RequestObservation
from sfs.web.ocs import login_flow as ocs_login_flow
from sfs.web.ocs import routes as ocs_routes
from sfs.web.ocs import routes_shares as ocs_shares
from sfs.web.ocs import wipe as ocs_wipe
from sfs.web.portal import routes as portal_routes
from sfs.web.portal import (
    routes_accounts,
    routes_audit,
    routes_devices,
    routes_file_history,
    routes_file_selection,
    routes_file_uploads,
    routes_files,
    routes_invitation,
    routes_links,
    routes_login_flow,
    routes_my_account,
    routes_organisation,
    routes_password_reset,
    routes_people_shares,
    routes_provider,
    routes_second_factor,
    routes_share_links,
    routes_team_folders,
)
from sfs.web.portal.rendering import render
from sfs.web.portal.session import detour, shown_session

STATIC = Path(__file__).parent / "portal" / "static"
# Forms and JSON calls are small; file content streams through with flat memory; a commit
# carries manifests (about 4 KiB of JSON per MiB of new file, ~97 bytes per ~24 KiB chunk; a
# run of the base version's chunks is one entry). A commit-batch: SFS_COMMIT_BODY_MAX_BYTES,
# 32 MiB by default, 1,000 files of 7 MiB (the client sends bigger ones in several calls). One
# file's commit: up to MAX_MANIFEST_BODY, a new file of about 24 GB (1,000,000 entries). Bodies
# over 8 MiB are parsed one at a time (web/api/threaded_body.py), ~7x their size in memory.
MAX_BODY_BYTES = 256 * 1024
MAX_MANIFEST_BODY = 100 * 1024 * 1024


def body_limits(settings: Settings) -> list[tuple[re.Pattern[str], int | None]]:
    """Ceilings by "METHOD /path" (the first match wins; None: streamed, no ceiling)."""
    return [
        (re.compile(r"^PUT /api/v1/spaces/[^/]+/content$"), None),
        (
            re.compile(r"^POST /api/v1/spaces/[^/]+/commit$"),
            max(MAX_MANIFEST_BODY, settings.commit_body_max_bytes),
        ),
        (
            re.compile(r"^POST /api/v1/spaces/[^/]+/commit-batch$"),
            settings.commit_body_max_bytes,
        ),
        (re.compile(r"^POST /api/v1/chunks/batch$"), BATCH_MAX_BYTES),
        (re.compile(r"^[A-Z]+ /api/v1/chunks/"), 8 * 1024 * 1024),
        # 1,000 paths (a client's batch, the schema's maxItems) of up to 4,096 bytes each.
        (re.compile(r"^POST /api/v1/spaces/[^/]+/folders/batch$"), 8 * 1024 * 1024),
        (re.compile(r"^PUT /file/upload/"), None),
        (re.compile(r"^POST /file/upload(/|$)"), settings.form_upload_max_bytes),
        (re.compile(r"^POST /s/[^/]+/upload$"), settings.form_upload_max_bytes),
        (re.compile(r"^PUT /(dav|remote\.php/dav)(/|$)"), None),
        (re.compile(r"^[A-Z]+ /(dav|remote\.php/dav)(/|$)"), MAX_XML_BYTES),
    ]


def create_app(services: Services, *, background_jobs: bool = False) -> FastAPI:
    """The HTTP service; `background_jobs` (for `sfs serve`) also runs the scheduled jobs."""
    app = FastAPI(
        title="Secure File Sync",
        version=__version__,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan_for(services, background_jobs=background_jobs),
    )
    app.state.services = services
    api = create_api()
    api.state.services = services
    app.router.routes.append(api_mount(api))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(ocs_shares.router)  # before ocs_routes, whose last route is a catch-all
    app.include_router(operations.router)
    app.include_router(ocs_routes.router)
    app.include_router(ocs_login_flow.router)
    app.include_router(ocs_wipe.router)
    app.include_router(routes_login_flow.router)
    app.include_router(portal_routes.router)
    app.include_router(routes_second_factor.router)
    app.include_router(routes_password_reset.router)
    app.include_router(routes_accounts.router)
    app.include_router(routes_my_account.router)
    app.include_router(routes_devices.router)
    app.include_router(routes_invitation.router)
    app.include_router(routes_organisation.router)
    app.include_router(routes_team_folders.router)
    app.include_router(routes_audit.router)
    app.include_router(routes_provider.router)
    app.include_router(routes_files.router)
    app.include_router(routes_file_uploads.router)
    app.include_router(routes_file_history.router)
    app.include_router(routes_file_selection.router)
    app.include_router(routes_links.router)
    app.include_router(routes_share_links.router)
    app.include_router(routes_people_shares.router)

    async def page_error(request: Request, exc: Exception) -> Response:
        redirect = detour(exc)
        if redirect is not None:
            return redirect
        if isinstance(exc, SfsError):
            status, message, headers = status_for(exc), exc.message, headers_for(exc)
        else:
            assert isinstance(exc, StarletteHTTPException)
            status, message, headers = exc.status_code, str(exc.detail), dict(exc.headers or {})
        titles = {404: N_("Page not found"), 403: N_("Not allowed"), 405: N_("Not allowed")}
        response = render(
            request,
            "error.html",
            {
                "session": shown_session(request),
                "title": titles.get(status, N_("Something went wrong")),
                "message": message,
            },
            status_code=status,
        )
        response.headers.update(headers)
        return response

    app.add_exception_handler(StarletteHTTPException, page_error)
    app.add_exception_handler(SfsError, page_error)
    settings = services.settings
    # Innermost: the middleware below (outside it) wraps its answers as the router's.
    app.add_middleware(FolderListingShortcut, services=services)
    # WebDAV answers its own paths; the guard and the security headers wrap it too.
    app.add_middleware(DavDoor, services=services)
    app.add_middleware(
        BodyGuard,
        max_bytes=MAX_BODY_BYTES,
        limits=body_limits(settings),
        idle_seconds=settings.request_body_idle_seconds,
    )
    app.add_middleware(SecurityHeaders, https=settings.served_over_https)
    if settings.trusted_proxies:
        # Here rather than in uvicorn: the observation outside it still sees the proxy's own
        # address, and believes its X-Request-ID only when that proxy is trusted.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_middleware(
        RequestObservation, metrics=services.metrics, trusted_proxies=settings.trusted_proxies
    )
    return app
