"""The /api/v1 application."""

from __future__ import annotations

from fastapi import FastAPI

from sfs import __version__
from sfs.web.api import routes_audit, routes_auth, routes_chunks, routes_files, routes_users
from sfs.web.errors import install_api_error_handlers


def create_api() -> FastAPI:
    api = FastAPI(
        title="Secure File Sync API",
        version=__version__,
        openapi_url="/openapi.json",
        docs_url=None,  # the bundled viewers load scripts from a CDN, which our CSP forbids
        redoc_url=None,
    )
    install_api_error_handlers(api)
    api.include_router(routes_auth.router)
    api.include_router(routes_users.router)
    api.include_router(routes_files.router)
    api.include_router(routes_chunks.router)
    api.include_router(routes_audit.router)
    return api
