"""Shares with colleagues through the REST API (`/spaces/{space}/shares`, `/shares`), for
`sfs share add|list|revoke`."""

from __future__ import annotations

from typing import Any

from sfs.client.api import ApiClient, ApiError


def add_share(api: ApiClient, path: str, *, recipient: str, role: str) -> dict[str, Any]:
    """Share PATH of the client's space with a colleague (an address) or a group (a name)."""
    body: dict[str, Any] = {"path": path, "role": role}
    body["with_user" if "@" in recipient else "with_group"] = recipient
    return api._object("POST", api._space("/shares"), json=body)


def list_shares(api: ApiClient) -> list[dict[str, Any]]:
    data = api._json("GET", "/shares")
    if not isinstance(data, list):
        raise ApiError("the server's list of shares is not a list", status=200, code="bad_response")
    return [item for item in data if isinstance(item, dict)]


def remove_share(api: ApiClient, share_id: str) -> None:
    api._call("DELETE", f"/shares/{share_id}")
