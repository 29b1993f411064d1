"""Where a WebDAV URL points: whose files, and which path inside them.

Two doors lead to the same files: `/remote.php/dav/files/{user}/…` (the Nextcloud layout;
`{user}` is the account's id, a UUID, which never changes; its email is accepted too) and the
short `/dav/…` for whoever is signed in. Answers name resources under the door the client used.
The path is decoded from the raw request bytes one segment at a time, so an encoded `/` can
never become a separator; names are then checked by the services like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote, unquote, urlsplit

from sfs.domain.actor import Actor
from sfs.domain.errors import InvalidInput, NotFound

ALIAS = "/dav"
NEXTCLOUD_ROOT = "/remote.php/dav"
NEXTCLOUD_FILES = "/remote.php/dav/files"
# A team folder (or any space the account may reach) by its id: /remote.php/dav/spaces/{id}/…
SPACES = "/remote.php/dav/spaces"


def dav_user_id(actor: Actor) -> str:
    """The `{user}` segment of the actor's Nextcloud URLs (what OCS cloud/user calls `id`)."""
    return str(actor.user_id)


def is_dav_request(path: str) -> bool:
    return any(path == door or path.startswith(door + "/") for door in (ALIAS, NEXTCLOUD_ROOT))


@dataclass(frozen=True)
class DavPath:
    base: str  # the door, as it appears in hrefs (percent-encoded), without a trailing slash
    user: str | None  # the `{user}` segment of the Nextcloud door, decoded; None for /dav
    parts: tuple[str, ...]
    trailing_slash: bool
    space: str | None = None  # the `{id}` segment of the spaces door, undecoded
    # A team folder shown at the top of the caller's files: its name there; `base` then ends
    # with it and `parts` are inside the team folder (see `web/dav/mounts.py`).
    mount: str | None = None

    @property
    def path(self) -> str:
        return "/" + "/".join(self.parts)

    @property
    def parent(self) -> str:
        return "/" + "/".join(self.parts[:-1])

    def href(self, path: str, *, folder: bool) -> str:
        """The URL path of `path` under this door ('/' after folders, as clients expect)."""
        encoded = quote(path, safe="/")
        if folder and not encoded.endswith("/"):
            encoded += "/"
        return self.base + encoded

    def belongs_to(self, actor: Actor) -> bool:
        """Whether the door leads to the actor's own files (other accounts are not found):
        My Files and the team folders shown at its top. A space's door never does."""
        if self.space is not None:
            return False
        if self.user is None:
            return True
        return self.user == dav_user_id(actor) or self.user.casefold() == actor.email

    def in_same_space(self, other: DavPath, actor: Actor) -> bool:
        """Whether this path (a Destination, an If tag) is in the space `other` names."""
        if self.space is not None or other.space is not None:
            return self.space == other.space
        return self.mount == other.mount and self.belongs_to(actor)


def parse_dav_path(raw_path: str) -> DavPath:
    """NotFound for a URL of neither door; InvalidInput for a path that cannot be decoded."""
    if raw_path == ALIAS or raw_path.startswith(ALIAS + "/"):
        return _within(ALIAS, None, raw_path[len(ALIAS) :])
    if raw_path.startswith(SPACES + "/"):
        space, slash, rest = raw_path[len(SPACES) + 1 :].partition("/")
        if not space:
            raise NotFound("Name the space: /remote.php/dav/spaces/<id>/.")
        within = _within(SPACES + "/" + space, None, slash + rest)
        return replace(within, space=space)
    prefix = NEXTCLOUD_FILES + "/"
    if not raw_path.startswith(prefix):
        raise NotFound("Nothing is served here: use /remote.php/dav/files/<user>/ or /dav/.")
    user_segment, slash, rest = raw_path[len(prefix) :].partition("/")
    user = _decode(user_segment)
    if not user:
        raise NotFound("Name the account: /remote.php/dav/files/<user>/.")
    return _within(NEXTCLOUD_FILES + "/" + user_segment, user, slash + rest)


def parse_destination(header: str) -> DavPath:
    """A Destination header: a full URL or an absolute path (Nextcloud clients send the latter).

    Only its path counts: a proxy in front may well have changed scheme and host."""
    value = header.strip()
    if not value:
        raise InvalidInput("The Destination header is empty.", field="Destination")
    path = urlsplit(value).path if "://" in value else value.partition("?")[0]
    if not path.startswith("/"):
        raise InvalidInput(
            "The Destination must be a URL or an absolute path.", field="Destination"
        )
    return parse_dav_path(path)


def _within(base: str, user: str | None, rest: str) -> DavPath:
    segments = rest.split("/")
    parts = tuple(_decode(segment) for segment in segments if segment)
    for part in parts:
        if "/" in part or "\x00" in part:
            raise InvalidInput("A name in the path holds '/' or NUL.", field="path")
    return DavPath(base=base, user=user, parts=parts, trailing_slash=rest.endswith("/"))


def _decode(segment: str) -> str:
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError:
        raise InvalidInput("The path is not valid UTF-8.", field="path") from None
