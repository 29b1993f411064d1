"""The /api/v1 application."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from starlette.routing import Mount

from sfs import __version__
from sfs.web.api import (
    routes_audit,
    routes_auth,
    routes_chunks,
    routes_files,
    routes_links,
    routes_manifest_deltas,
    routes_shares,
    routes_sharing,
    routes_users,
    routes_wipe,
)
from sfs.web.api.responses import document_common_errors
from sfs.web.errors import install_api_error_handlers

PREFIX = "/api/v1"


class _Api(FastAPI):
    def openapi(self) -> dict[str, Any]:
        if not self.openapi_schema:
            self.openapi_schema = document_common_errors(super().openapi())
        return self.openapi_schema


def create_api() -> FastAPI:
    api = _Api(
        title="Secure File Sync API",
        version=__version__,
        openapi_url="/openapi.json",
        docs_url=None,  # the bundled viewers load scripts from a CDN, which our CSP forbids
        redoc_url=None,
    )
    install_api_error_handlers(api)
    api.include_router(routes_auth.router)
    api.include_router(routes_wipe.router)
    api.include_router(routes_users.router)
    api.include_router(routes_files.router)
    api.include_router(routes_chunks.router)
    api.include_router(routes_manifest_deltas.router)
    api.include_router(routes_sharing.router)
    api.include_router(routes_links.router)
    api.include_router(routes_shares.router)
    api.include_router(routes_audit.router)
    return api


def api_mount(api: FastAPI) -> Mount:
    """The API under /api/v1, for every path below it.

    Starlette's mount pattern ends in `.*`, which stops at a newline: a path parameter holding
    one (`/api/v1/spaces/%0A/children`) fell through to the portal's HTML 404 page.
    """
    mount = Mount(PREFIX, app=api)
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    return mount
