"""Talking WebDAV to a test app: Basic credentials with an app password, multistatus answers."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import httpx
from defusedxml.ElementTree import fromstring
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.services.identity.accounts import UserView
from tests.world import CLIENT, actor

D = "{DAV:}"
OC = "{http://owncloud.org/ns}"


def basic(email: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{email}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@dataclass(frozen=True)
class DavUser:
    view: UserView
    headers: dict[str, str]

    @property
    def root(self) -> str:
        return f"/remote.php/dav/files/{self.view.id}"


def dav_user(services: Services, view: UserView) -> DavUser:
    created = services.app_passwords.create(actor(services, view), name="dav test", client=CLIENT)
    return DavUser(view, basic(view.email, created.secret))


def propfind(
    client: TestClient, url: str, headers: dict[str, str], *, depth: str = "1", body: str = ""
) -> httpx.Response:
    return client.request(
        "PROPFIND", url, headers={**headers, "Depth": depth}, content=body.encode()
    )


def entries(answer: httpx.Response) -> dict[str, dict[str, str | None]]:
    """href → {property tag: text} of a 207 answer (props of the 200 propstat only)."""
    assert answer.status_code == 207, answer.text
    found: dict[str, dict[str, str | None]] = {}
    for response in fromstring(answer.content).iter(f"{D}response"):
        href = response.findtext(f"{D}href")
        assert href is not None
        props: dict[str, str | None] = {}
        for propstat in response.iter(f"{D}propstat"):
            if "200" not in (propstat.findtext(f"{D}status") or ""):
                continue
            for prop in propstat.iter(f"{D}prop"):
                for element in prop:
                    props[element.tag] = element.text
                    if element.tag == f"{D}resourcetype":
                        props[element.tag] = "collection" if len(element) else ""
        found[href] = props
    return found
