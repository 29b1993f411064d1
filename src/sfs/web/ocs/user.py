"""`data` of /ocs/v{1,2}.php/cloud/user: who the caller is, as the Nextcloud clients read it.

`id` is the `{user}` segment of the caller's WebDAV URLs (/remote.php/dav/files/{id}/); quota
figures are the same the WebDAV door reports (bytes of the caller's files, room left).
"""

from __future__ import annotations

from sfs.app import Services
from sfs.domain.actor import Actor
from sfs.web.dav.paths import dav_user_id

# Nextcloud's "no limit" (SPACE_UNLIMITED).
UNLIMITED = -3


def user_data(services: Services, actor: Actor) -> dict[str, object]:
    space = services.spaces.my_files(actor)
    root = services.listing.listing(actor, space_id=space.id, path="/", with_children=False).node
    used = services.listing.bytes_below(actor, space_id=space.id, folder_ids=[root.id])[root.id]
    room = services.file_versions.room_left(actor)
    if room is None:
        quota: dict[str, object] = {
            "free": UNLIMITED,
            "used": used,
            "total": UNLIMITED,
            "relative": 0,
            "quota": UNLIMITED,
        }
    else:
        total = used + room
        quota = {
            "free": room,
            "used": used,
            "total": total,
            "relative": round(100 * used / total, 2) if total else 0,
            "quota": total,
        }
    return {
        "id": dav_user_id(actor),
        "enabled": True,
        "email": actor.email,
        "displayname": actor.display_name,
        "display-name": actor.display_name,
        "language": services.languages.chosen_by(actor) or "en",
        "locale": "",
        "backend": "Database",
        "quota": quota,
        "groups": [],
        "subadmin": [],
        "phone": "",
        "address": "",
        "website": "",
        "twitter": "",
        "backendCapabilities": {"setDisplayName": False, "setPassword": False},
    }
