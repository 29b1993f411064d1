"""Share links through the REST API (`/spaces/{space}/links`, `/links`), for `sfs share`."""

from __future__ import annotations

from datetime import date
from typing import Any

from sfs.client.api import ApiClient, ApiError


def create_link(
    api: ApiClient,
    path: str,
    *,
    password: str | None = None,
    expires: date | None = None,
    max_downloads: int | None = None,
    upload_only: bool = False,
) -> dict[str, Any]:
    """The new link: {"link": {...}, "url": "..."}."""
    body: dict[str, Any] = {"path": path, "upload_only": upload_only}
    if password is not None:
        body["password"] = password
    if expires is not None:
        body["expires"] = expires.isoformat()
    if max_downloads is not None:
        body["max_downloads"] = max_downloads
    return api._object("POST", api._space("/links"), json=body)


def update_link(api: ApiClient, link_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """PATCH the link: only the keys given change; None removes a password, expiry or limit."""
    return api._object("PATCH", f"/links/{link_id}", json=changes)


def list_links(api: ApiClient) -> list[dict[str, Any]]:
    data = api._json("GET", "/links")
    if not isinstance(data, list):
        raise ApiError("the server's list of links is not a list", status=200, code="bad_response")
    return [item for item in data if isinstance(item, dict)]


def revoke_link(api: ApiClient, link_id: str) -> dict[str, Any]:
    return api._object("DELETE", f"/links/{link_id}")
