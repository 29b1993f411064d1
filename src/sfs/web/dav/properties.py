"""Live properties: what a PROPFIND tells about a file or folder, computed from the services.

`ALLPROP` are answered to `<allprop/>`; the rest only when asked by name (a folder's bytes
below it and the quota cost a query; the ownCloud/Nextcloud ones are for those clients).
Only the modification time may be set (PROPPATCH); the others are protected.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sfs.services.files.locks import LockView
from sfs.services.files.nodes import FOLDER, NodeView
from sfs.web.dav import xml
from sfs.web.dav.file_ids import numeric_file_id
from sfs.web.dav.reads import content_type, http_date
from sfs.web.dav.xml import DAV, NC, OC, Name


@dataclass
class Extras:
    """What some properties need beyond the node, fetched once for the whole answer."""

    lock_root: Callable[[str], str]  # the href of a locked path
    locks: dict[str, list[LockView]] = field(default_factory=dict)
    bytes_below: dict[uuid.UUID, int] = field(default_factory=dict)
    room_left: int | None = None
    root_path: str = "/"
    # The top folder's ETag and the team folders' permissions at the top of one's files.
    etags: dict[uuid.UUID, str] = field(default_factory=dict)
    permissions: dict[uuid.UUID, str] = field(default_factory=dict)


def _resourcetype(node: NodeView, _: Extras) -> str:
    return "<d:collection/>" if node.kind == FOLDER else ""


def _length(node: NodeView, _: Extras) -> str | None:
    return None if node.kind == FOLDER else str(node.size)


def _type(node: NodeView, _: Extras) -> str | None:
    return None if node.kind == FOLDER else xml.text(content_type(node))


def _etag(node: NodeView, extras: Extras) -> str:
    return xml.text(f'"{extras.etags.get(node.id, node.etag)}"')


def _modified(node: NodeView, _: Extras) -> str:
    return http_date(node)


def _supportedlock(_: NodeView, __: Extras) -> str:
    return "".join(
        f"<d:lockentry><d:lockscope><d:{scope}/></d:lockscope>"
        "<d:locktype><d:write/></d:locktype></d:lockentry>"
        for scope in ("exclusive", "shared")
    )


def _lockdiscovery(node: NodeView, extras: Extras) -> str:
    return "".join(
        active_lock(lock, extras.lock_root(lock.path)) for lock in extras.locks.get(node.path, [])
    )


def _size(node: NodeView, extras: Extras) -> str | None:
    if node.kind != FOLDER:
        return str(node.size)
    below = extras.bytes_below.get(node.id)
    return None if below is None else str(below)


def _available(_: NodeView, extras: Extras) -> str | None:
    return None if extras.room_left is None else str(extras.room_left)


def _id(node: NodeView, _: Extras) -> str:
    return node.id.hex  # also the OC-FileId header of a write


def _file_id(node: NodeView, _: Extras) -> str:
    return str(numeric_file_id(node.id))


def _permissions(node: NodeView, extras: Extras) -> str:
    # G read, D delete, N rename, V move, W write, C create file, K create folder, M mounted
    # (a team folder at the top of one's files); no S/R: not shared on from a client.
    if node.id in extras.permissions:
        return extras.permissions[node.id]
    return "GDNVCK" if node.kind == FOLDER else "GDNVW"


def _checksums(node: NodeView, _: Extras) -> str | None:
    # Without a SHA1 (a sync client's chunks) the property is absent, not empty: an empty
    # <oc:checksum/> is not something the Nextcloud clients and rclone expect.
    if node.kind == FOLDER or node.sha1 is None:
        return None
    return f"<oc:checksum>SHA1:{xml.text(node.sha1)}</oc:checksum>"


def _fingerprint(node: NodeView, extras: Extras) -> str | None:
    return "" if node.path == extras.root_path else None


Render = Callable[[NodeView, Extras], str | None]
LIVE: dict[Name, Render] = {
    (DAV, "resourcetype"): _resourcetype,
    (DAV, "getcontentlength"): _length,
    (DAV, "getcontenttype"): _type,
    (DAV, "getetag"): _etag,
    (DAV, "getlastmodified"): _modified,
    (DAV, "supportedlock"): _supportedlock,
    (DAV, "lockdiscovery"): _lockdiscovery,
    (DAV, "quota-used-bytes"): _size,
    (DAV, "quota-available-bytes"): _available,
    (OC, "id"): _id,
    (OC, "fileid"): _file_id,
    (OC, "permissions"): _permissions,
    (OC, "size"): _size,
    (OC, "checksums"): _checksums,
    (OC, "data-fingerprint"): _fingerprint,
}
ALLPROP: tuple[Name, ...] = (
    (DAV, "resourcetype"),
    (DAV, "getcontentlength"),
    (DAV, "getcontenttype"),
    (DAV, "getetag"),
    (DAV, "getlastmodified"),
    (DAV, "supportedlock"),
    (DAV, "lockdiscovery"),
)
# Settable by PROPPATCH: the modification time (Nextcloud's `lastmodified` is Unix seconds).
MODIFICATION_TIME: frozenset[Name] = frozenset({(DAV, "getlastmodified"), (DAV, "lastmodified")})
# Everything else live, and names reserved for later Nextcloud properties, cannot be set.
PROTECTED: frozenset[Name] = frozenset(LIVE) - MODIFICATION_TIME | {
    (DAV, "creationdate"),
    (OC, "share-types"),
    (OC, "downloadURL"),
    (OC, "dDC"),
    (NC, "has-preview"),
}
NEEDS_SIZES: frozenset[Name] = frozenset({(DAV, "quota-used-bytes"), (OC, "size")})


def active_lock(lock: LockView, root_href: str) -> str:
    scope = "exclusive" if lock.exclusive else "shared"
    owner = f"<d:owner>{lock.owner_xml}</d:owner>" if lock.owner_xml else ""
    return (
        "<d:activelock>"
        f"<d:locktype><d:write/></d:locktype><d:lockscope><d:{scope}/></d:lockscope>"
        f"<d:depth>{'infinity' if lock.deep else '0'}</d:depth>{owner}"
        f"<d:timeout>Second-{lock.timeout_seconds}</d:timeout>"
        f"<d:locktoken><d:href>{xml.text(lock.token)}</d:href></d:locktoken>"
        f"<d:lockroot><d:href>{xml.text(root_href)}</d:href></d:lockroot>"
        "</d:activelock>"
    )
