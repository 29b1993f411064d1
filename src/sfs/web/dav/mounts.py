"""Team folders and folders shared with the caller at the top of their files, at the Nextcloud
door and `/dav/`, the way Nextcloud shows group folders and shares:
`/remote.php/dav/files/{user}/Projects/…` is the team folder (or the shared folder) "Projects",
so the desktop client and rclone sync them with no extra set-up.

The names and their collision rule are `services/sharing/files_root.py`'s. A path is re-rooted
here once, at the door: the DavPath's base then ends with the team folder's name and its parts
are inside the team folder, so every handler works on the team folder's space unchanged. The
team folder itself cannot be deleted, moved or replaced (403, as for any top folder); a COPY or
MOVE between it and My Files (or another team folder) is refused with 502, as between two
spaces. The top folder's ETag folds in every team folder's, so it changes whenever one does.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from urllib.parse import quote

from sfs.domain.actor import Actor
from sfs.services.files.nodes import NodeView
from sfs.services.sharing.files_root import FilesRoot, Mount
from sfs.web.dav.paths import DavPath


def rerooted(root: FilesRoot, where: DavPath, actor: Actor) -> tuple[DavPath, uuid.UUID]:
    """The path inside its space, and that space, for a path of the caller's files door."""
    if where.space is not None or where.mount is not None or not where.belongs_to(actor):
        return where, root.my_files.id
    mount = root.mount_named(where.parts[0]) if where.parts else None
    if mount is None:
        return where, root.my_files.id
    inside = replace(
        where,
        base=where.base + "/" + quote(mount.name, safe=""),
        parts=where.parts[1:],
        mount=mount.name,
    )
    return inside, mount.space.id


def mount_href(where: DavPath, mount: Mount) -> str:
    return where.base + "/" + quote(mount.name, safe="") + "/"


def folded_etag(top: NodeView, mounted: list[tuple[Mount, NodeView]]) -> str:
    """The top folder's ETag with each team folder's (name and ETag) folded in."""
    if not mounted:
        return top.etag
    digest = hashlib.sha256(top.etag.encode())
    for mount, node in mounted:
        digest.update(f"\0{mount.name}\0{node.etag}".encode())
    return f"{top.id.hex[:12]}-{digest.hexdigest()[:20]}"


def mount_permissions(mount: Mount) -> str:
    """M mounted, G read; C, K create inside for an Editor or Manager. Never D, N or V: the
    team folder itself is not deleted, renamed or moved from a client."""
    return "MGCK" if mount.space.role.may_write else "MG"
