"""Driving Debian's `nextcloudcmd` (and rclone) against a real `sfs serve`: a user with an app
password, a REST client acting on the server side, and the trees to compare."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

from sfs.app import Services
from sfs.domain.actor import operator
from tests.e2e.test_quick_start import RunningServer
from tests.support import GOOD_PASSWORD, require_tool
from tests.world import CLIENT, actor

SYNC_TIMEOUT = 180  # seconds; nextcloudcmd may wait forever on a prompt it cannot show
# The client's own files in a synced folder: its journal and its log.
CLIENT_FILES = (".sync_", "._sync_", ".nextcloudsync.log", ".owncloudsync.log")


@dataclass
class NextcloudUser:
    server: RunningServer
    email: str
    app_password: str
    api: httpx.Client  # the REST API as this user (the "server side" of the tests)

    def sync(self, folder: Path) -> str:
        """One `nextcloudcmd` pass over `folder`; its log."""
        result = subprocess.run(
            [
                require_tool("nextcloudcmd"),
                "--non-interactive",
                "-u",
                self.email,
                "-p",
                self.app_password,
                str(folder),
                self.server.base_url,
            ],
            capture_output=True,
            text=True,
            timeout=SYNC_TIMEOUT,
            check=False,
        )
        log = result.stdout + result.stderr
        assert result.returncode == 0, log[-5000:]
        return log

    def server_tree(self, path: str = "/") -> dict[str, bytes | None]:
        """Every file (its bytes) and folder (None) below `path` on the server."""
        found: dict[str, bytes | None] = {}
        answer = self.api.get("/api/v1/spaces/me/children", params={"path": path})
        answer.raise_for_status()
        for node in answer.json():
            relative = node["path"].lstrip("/")
            if node["kind"] == "folder":
                found[relative] = None
                found.update(self.server_tree(node["path"]))
            else:
                content = self.api.get("/api/v1/spaces/me/content", params={"path": node["path"]})
                content.raise_for_status()
                found[relative] = content.content
        return found

    def put(self, path: str, data: bytes) -> None:
        base = self.api.get("/api/v1/spaces/me/node", params={"path": path})
        params: dict[str, str | int] = {"path": path}
        if base.status_code == 200:
            params["base_version"] = base.json()["version"]
        answer = self.api.put("/api/v1/spaces/me/content", params=params, content=data)
        assert answer.status_code in (200, 201), answer.text

    def mkdir(self, path: str) -> None:
        answer = self.api.post("/api/v1/spaces/me/folders", json={"path": path})
        assert answer.status_code == 201, answer.text

    def move(self, source: str, target: str) -> None:
        answer = self.api.post("/api/v1/spaces/me/move", json={"source": source, "target": target})
        assert answer.status_code == 200, answer.text

    def delete(self, path: str) -> None:
        answer = self.api.delete("/api/v1/spaces/me/node", params={"path": path})
        assert answer.status_code == 204, answer.text

    def requests_since(self, mark: int) -> list[str]:
        """The access log's request lines ("METHOD /path") after line `mark`."""
        lines = self.server.log.read_text().splitlines()[mark:]
        return [line.split('"')[1] for line in lines if line.count('"') >= 2 and "HTTP/" in line]

    def log_mark(self) -> int:
        return len(self.server.log.read_text().splitlines())


def nextcloud_user(server: RunningServer, services: Services, email: str) -> NextcloudUser:
    organisation = services.organisations.create(operator(), name=f"Org {email}", client=CLIENT)
    view = services.accounts.create_user(
        operator(),
        organization_id=organisation.id,
        email=email,
        display_name="Nina Nextcloud",
        password=GOOD_PASSWORD,
        client=CLIENT,
    )
    who = actor(services, view)
    password = services.app_passwords.create(who, name="nextcloudcmd", client=CLIENT).secret
    token = services.device_tokens.issue(who, device_name="server side", client=CLIENT).secret
    api = httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    return NextcloudUser(server, email, password, api)


def local_tree(folder: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) below `folder`, without the client's own."""
    found: dict[str, bytes | None] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.name.startswith(CLIENT_FILES):
            continue
        found[relative] = None if path.is_dir() else path.read_bytes()
    return found


def write(folder: Path, relative: str, data: bytes) -> None:
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
