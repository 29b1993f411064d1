"""Where a page of the Files menu is: which space (My Files, or a team folder the reader is a
member of) and which path in it, and the URLs that lead there.

A space travels as the `space` query parameter (absent: My Files), so every folder, action and
form URL of a team folder carries it. Whether the reader may reach the space, and with which
role, is the sharing services' answer; a space they may not reach is simply not found.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from sfs.app import Services
from sfs.domain.actor import Actor
from sfs.domain.errors import InvalidInput, NotFound
from sfs.domain.space_roles import PERSONAL
from sfs.protocol.paths import BadName, clean_name, join_path, split_path
from sfs.services.files.spaces import SpaceView


@dataclass(frozen=True)
class Crumb:
    name: str
    url: str


@dataclass(frozen=True)
class Place:
    """The space a Files page is in, as the reader sees it."""

    space: SpaceView
    ref: str  # '' for My Files, else the space's id: what goes in `?space=`

    @property
    def id(self) -> uuid.UUID:
        return self.space.id

    @property
    def is_mine(self) -> bool:
        return self.space.kind == PERSONAL

    @property
    def may_write(self) -> bool:
        return self.space.role.may_write


def place_of(services: Services, actor: Actor, space: str = "") -> Place:
    """My Files for an empty reference; otherwise a space the actor may reach, or NotFound."""
    if not space:
        return Place(services.spaces.my_files(actor), "")
    try:
        wanted = uuid.UUID(space[:64])
    except ValueError:
        raise NotFound("No such space.") from None
    for view in services.spaces.list_spaces(actor):
        if view.id == wanted:
            return Place(view, "" if view.kind == PERSONAL else str(view.id))
    raise NotFound("No such space.")


def with_query(url: str, space: str = "", **params: Any) -> str:
    """`url` with `?space=` (when not My Files) and the other parameters that have a value."""
    pairs = [("space", space)] if space else []
    pairs += [(key, str(value)) for key, value in params.items() if value not in (None, "", 0)]
    return f"{url}?{urlencode(pairs)}" if pairs else url


def files_url(path: str, space: str = "", **params: Any) -> str:
    """The page of a folder, or the content of a file: `/files/<path>`, quoted."""
    return with_query("/files" + quote(join_path(split_path(path)), safe="/"), space, **params)


def action_url(action: str, path: str, space: str = "", **params: Any) -> str:
    return with_query(
        f"/file/{action}" + quote(join_path(split_path(path)), safe="/"), space, **params
    )


def parent_path(path: str) -> str:
    return join_path(split_path(path)[:-1])


def child_path(folder: str, name: str) -> str:
    """`folder/name`, the name checked on its own so that a '/' in it cannot move anything."""
    try:
        return join_path([*split_path(folder), clean_name(name.strip())])
    except BadName as exc:
        raise InvalidInput(str(exc), field="name") from None


def clean_path(path: str) -> str:
    try:
        return join_path(split_path(path))
    except BadName:
        raise NotFound(f"{path[:200]} does not exist.") from None


def clean_folder(folder: str) -> str:
    try:
        return join_path(split_path(folder.strip()))
    except BadName as exc:
        raise InvalidInput(str(exc), field="folder") from None


def crumbs(path: str, space: str = "") -> list[Crumb]:
    parts = split_path(path)
    return [
        Crumb(name, files_url(join_path(parts[: i + 1]), space)) for i, name in enumerate(parts)
    ]
