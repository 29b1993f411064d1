"""Links and shares in the shape of Nextcloud's OCS Share API (`files_sharing/api/v1/shares`),
the fields its desktop and mobile share dialogs read, and its permission bits read back.

Ids are our UUIDs as strings (the desktop client reads `id` as text). A link's token is stored
only as a digest, so `token` and `url` are filled only in the answer that creates the link; a
password is never echoed: `share_with` and `password` say "***redacted***" when one is set (the
desktop client reads "share_with is a string" as "has a password").
"""

from __future__ import annotations

import mimetypes
import uuid
from datetime import datetime, timedelta

from sfs.domain.actor import Actor
from sfs.domain.space_roles import SpaceRole
from sfs.services.sharing.links import LinkView
from sfs.services.sharing.sharees import Sharee
from sfs.services.sharing.shares import SharedWithMe, ShareView
from sfs.web.dav.file_ids import numeric_file_id
from sfs.web.dav.paths import dav_user_id

# Nextcloud's share types and permission bits.
TYPE_USER = 0
TYPE_GROUP = 1
TYPE_LINK = 3
READ, UPDATE, CREATE, DELETE, SHARE = 1, 2, 4, 8, 16
REDACTED = "***redacted***"
FOLDER_MIME = "httpd/unix-directory"


def link_permissions(view: LinkView) -> int:
    """What a visitor may: read (1), only add (4, a file drop), or read and add (5)."""
    if view.upload_only:
        return CREATE
    return READ | CREATE if view.can_edit else READ


def role_permissions(role: SpaceRole, kind: str) -> int:
    if not role.may_write:
        return READ
    return READ | UPDATE | CREATE | DELETE if kind == "folder" else READ | UPDATE


def role_of_permissions(bits: int) -> str:
    """A colleague's role from permission bits: any write bit makes an Editor."""
    return "editor" if bits & (UPDATE | CREATE | DELETE) else "viewer"


def expiration(expires_at: datetime | None) -> str | None:
    """Nextcloud's "yyyy-MM-dd 00:00:00" of the last day the link works."""
    if expires_at is None:
        return None
    return (expires_at - timedelta(days=1)).strftime("%Y-%m-%d 00:00:00")


def _common(
    *,
    share_id: int,
    share_type: int,
    owner: Actor,
    path: str,
    kind: str,
    node_id: uuid.UUID,
    space_hex: str,
    created_at: datetime,
    permissions: int,
) -> dict[str, object]:
    name = path.rsplit("/", 1)[-1]
    return {
        "id": share_id,
        "share_type": share_type,
        "uid_owner": dav_user_id(owner),
        "displayname_owner": owner.display_name,
        "uid_file_owner": dav_user_id(owner),
        "displayname_file_owner": owner.display_name,
        "permissions": permissions,
        "can_edit": True,
        "can_delete": True,
        "stime": int(created_at.timestamp()),
        "parent": None,
        "expiration": None,
        "token": None,
        "path": path,
        "item_type": "folder" if kind == "folder" else "file",
        "mimetype": FOLDER_MIME
        if kind == "folder"
        else (mimetypes.guess_type(name)[0] or "application/octet-stream"),
        "storage_id": f"space::{space_hex}",
        "storage": 0,
        "item_source": numeric_file_id(node_id),
        "file_source": numeric_file_id(node_id),
        "file_parent": "",
        "file_target": "/" + name,
        "share_with": None,
        "share_with_displayname": None,
        "note": "",
        "label": "",
        "hide_download": 0,
        "mail_send": 0,
        "send_password_by_talk": False,
        "attributes": None,
    }


def link_fields(
    view: LinkView,
    number: int,
    owner: Actor,
    path: str,
    *,
    token: str | None = None,
    url: str | None = None,
) -> dict[str, object]:
    fields = _common(
        share_id=number,
        share_type=TYPE_LINK,
        owner=owner,
        path=path,
        kind=view.kind,
        node_id=view.node_id,
        space_hex=view.space_id.hex,
        created_at=view.created_at,
        permissions=link_permissions(view),
    )
    fields.update(
        expiration=expiration(view.expires_at),
        token=token,
        url=url,
        name="",
        share_with=REDACTED if view.has_password else None,
        share_with_displayname=REDACTED if view.has_password else None,
        password=REDACTED if view.has_password else None,
    )
    return fields


def share_fields(view: ShareView, number: int, owner: Actor, path: str) -> dict[str, object]:
    fields = _common(
        share_id=number,
        share_type=TYPE_USER if view.user_id is not None else TYPE_GROUP,
        owner=owner,
        path=path,
        kind=view.kind,
        node_id=view.node_id,
        space_hex=view.space_id.hex,
        created_at=view.created_at,
        permissions=role_permissions(view.role, view.kind),
    )
    fields.update(share_with=view.recipient, share_with_displayname=view.recipient)
    return fields


def received_fields(item: SharedWithMe, number: int, me: Actor, path: str) -> dict[str, object]:
    """A share given to the caller, as `shared_with_me=true` lists it: where it shows for
    them (a folder at the top of their files; a file by its name)."""
    fields = _common(
        share_id=number,
        share_type=TYPE_USER,
        owner=me,
        path=path,
        kind=item.kind,
        node_id=item.id,
        space_hex=item.id.hex,
        created_at=item.created_at,
        permissions=role_permissions(item.role, item.kind),
    )
    fields.update(
        uid_owner="",
        displayname_owner=item.shared_by,
        uid_file_owner="",
        displayname_file_owner=item.shared_by,
        share_with=dav_user_id(me),
        share_with_displayname=me.display_name,
        can_edit=False,
        can_delete=False,
    )
    return fields


def sharees_fields(found: list[Sharee], search: str) -> dict[str, object]:
    """Nextcloud's sharee search answer: exact matches apart, then the rest, by kind."""
    exact: dict[str, list[object]] = {"users": [], "groups": []}
    rest: dict[str, list[object]] = {"users": [], "groups": []}
    key = search.strip().casefold()
    for sharee in found:
        kind = "users" if sharee.kind == "user" else "groups"
        entry = {
            "label": sharee.label,
            "subline": sharee.name if sharee.kind == "user" else "",
            "icon": "icon-user" if sharee.kind == "user" else "icon-group",
            "shareWithDisplayNameUnique": sharee.name,
            "value": {
                "shareType": TYPE_USER if sharee.kind == "user" else TYPE_GROUP,
                "shareWith": sharee.name,
            },
        }
        (exact if key in (sharee.name.casefold(), sharee.label.casefold()) else rest)[kind].append(
            entry
        )
    empty: list[object] = []
    others = {name: empty for name in ("remotes", "remote_groups", "emails", "circles", "rooms")}
    return {
        "exact": {**exact, **others, "lookup": empty},
        **rest,
        **others,
        "lookup": empty,
        "lookupEnabled": False,
    }
