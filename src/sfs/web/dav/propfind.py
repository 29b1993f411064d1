"""PROPFIND (depth 0 or 1; infinity is refused, as RFC 4918 allows) and PROPPATCH."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from starlette.responses import Response

from sfs.domain.errors import InvalidInput
from sfs.services.files.locks import LockTarget
from sfs.services.files.nodes import FOLDER, NodeView
from sfs.services.files.properties import RemoveProperty, SetProperty
from sfs.services.sharing.files_root import Mount
from sfs.web.dav import xml
from sfs.web.dav.context import DavContext, DavError, xml_response
from sfs.web.dav.mounts import folded_etag, mount_href, mount_permissions
from sfs.web.dav.properties import ALLPROP, LIVE, MODIFICATION_TIME, NEEDS_SIZES, PROTECTED, Extras
from sfs.web.dav.xml import DAV, Name

OK, NOT_FOUND = "200 OK", "404 Not Found"
_SUMS = NEEDS_SIZES | {(DAV, "quota-available-bytes")}


@dataclass(frozen=True)
class Wanted:
    mode: str  # "allprop", "propname" or "prop"
    names: tuple[Name, ...]  # asked for by name (with allprop: the <include/>d ones)


async def propfind(context: DavContext) -> Response:
    depth = context.request.headers.get("depth", "infinity").strip().lower()
    if depth == "infinity":
        raise DavError(
            403,
            "PROPFIND with Depth: infinity is not served; ask one level at a time (Depth: 1).",
            condition="propfind-finite-depth",
        )
    if depth not in ("0", "1"):
        raise DavError(400, f"Depth {depth!r} is not a depth (use 0 or 1).")
    wanted = _wanted(xml.parse(await context.request.body()))
    # One node's own properties are a few indexed reads (rclone asks them after every file it
    # puts); a folder's children, the bytes below a folder and the room left under a quota
    # can be many rows or sums over a whole account, for a worker thread.
    costly = depth == "1" or any(name in _SUMS for name in wanted.names)
    body = await (context.call if costly else context.read)(_answer, context, depth == "1", wanted)
    return xml_response(body)


def _wanted(root: ET.Element | None) -> Wanted:
    if root is None:
        return Wanted("allprop", ())
    if not xml.is_dav(root, "propfind"):
        raise InvalidInput("A PROPFIND body must be a DAV:propfind element.", field="body")
    mode, names = "", []
    for child in root:
        if xml.is_dav(child, "prop"):
            mode, names = "prop", [xml.name_of(element) for element in child]
        elif xml.is_dav(child, "allprop"):
            mode = "allprop"
        elif xml.is_dav(child, "propname"):
            mode = "propname"
        elif xml.is_dav(child, "include"):
            names = [xml.name_of(element) for element in child]
    if not mode:
        raise InvalidInput("Say what to find: prop, allprop or propname.", field="body")
    return Wanted(mode, tuple(names))


def _answer(context: DavContext, with_children: bool, wanted: Wanted) -> bytes:
    context.require_conditions()
    asked = set(wanted.names)
    services, actor, space = context.services, context.actor, context.space_id
    # The nodes, their dead properties and their locks in one transaction.
    found = services.dav_listings.listing(
        actor,
        space_id=space,
        path=context.where.path,
        with_children=with_children,
        with_properties=wanted.mode != "prop" or any(name not in LIVE for name in asked),
        with_locks=wanted.mode != "prop" or (DAV, "lockdiscovery") in asked,
    )
    listing, dead = found.listing, found.properties
    nodes = [listing.node, *listing.children]
    mounted = _team_folders_at_top(context)
    extras = Extras(
        lock_root=lambda path: context.where.href(path, folder=False),
        root_path="/",
        locks=found.locks,
    )
    if asked & NEEDS_SIZES:
        folders = [n.id for n in nodes if n.kind == FOLDER]
        extras.bytes_below = services.listing.bytes_below(actor, space_id=space, folder_ids=folders)
    if (DAV, "quota-available-bytes") in asked:
        extras.room_left = services.file_versions.room_left(actor)
    if mounted:
        extras.etags[listing.node.id] = folded_etag(listing.node, mounted)
    responses = []
    for node in nodes:
        stored = {(p.namespace, p.name): p.value_xml for p in dead.get(node.id, [])}
        responses.append(xml.response(context.href(node), _propstats(node, wanted, stored, extras)))
    if with_children:
        responses += _mount_responses(context, mounted, wanted, extras)
    return xml.multistatus(responses)


def _team_folders_at_top(context: DavContext) -> list[tuple[Mount, NodeView]]:
    """At the top of the caller's files: each team folder shown there with its top node."""
    where, root = context.where, context.files_root
    if root is None or where.parts or where.mount is not None or where.space is not None:
        return []
    return [
        (
            mount,
            context.services.listing.listing(
                context.actor, space_id=mount.space.id, path="/", with_children=False
            ).node,
        )
        for mount in root.mounts
    ]


def _mount_responses(
    context: DavContext, mounted: list[tuple[Mount, NodeView]], wanted: Wanted, extras: Extras
) -> list[str]:
    services, actor = context.services, context.actor
    answers = []
    for mount, node in mounted:
        extras.permissions[node.id] = mount_permissions(mount)
        if wanted.mode != "prop" or NEEDS_SIZES & set(wanted.names):
            extras.bytes_below.update(
                services.listing.bytes_below(actor, space_id=mount.space.id, folder_ids=[node.id])
            )
        stored = {
            (p.namespace, p.name): p.value_xml
            for p in services.properties.of_nodes(
                actor, space_id=mount.space.id, node_ids=[node.id]
            ).get(node.id, [])
        }
        answers.append(
            xml.response(mount_href(context.where, mount), _propstats(node, wanted, stored, extras))
        )
    return answers


def _propstats(
    node: NodeView, wanted: Wanted, stored: dict[Name, str], extras: Extras
) -> list[tuple[str, str]]:
    if wanted.mode == "propname":
        live = [name for name in LIVE if LIVE[name](node, extras) is not None]
        return [(OK, "".join(xml.element(name) for name in [*live, *stored]))]
    names: list[Name] = list(wanted.names)
    if wanted.mode == "allprop":
        names = [*ALLPROP, *stored, *(n for n in wanted.names if n not in ALLPROP)]
    found, missing = [], []
    for name in dict.fromkeys(names):
        render = LIVE.get(name)
        if render is not None:
            value = render(node, extras)
            if value is not None:
                found.append(xml.element(name, value))
                continue
        elif name in stored:
            found.append(stored[name])
            continue
        if wanted.mode == "prop" or name in wanted.names:
            missing.append(xml.element(name))
    return [(OK, "".join(found)), (NOT_FOUND, "".join(missing))]


async def proppatch(context: DavContext) -> Response:
    root = xml.parse(await context.request.body())
    if root is None or not xml.is_dav(root, "propertyupdate"):
        raise InvalidInput("A PROPPATCH body must be a DAV:propertyupdate element.", field="body")
    changes: list[SetProperty | RemoveProperty] = []
    modified_at: datetime | None = None
    refused: dict[Name, str] = {}
    names: list[Name] = []
    for instruction in root:
        setting = xml.is_dav(instruction, "set")
        if not setting and not xml.is_dav(instruction, "remove"):
            continue
        for prop in instruction:
            if not xml.is_dav(prop, "prop"):
                continue
            for element in prop:
                name = xml.name_of(element)
                names.append(name)
                if name in MODIFICATION_TIME and setting:
                    modified_at = _moment(element.text or "")
                    if modified_at is None:
                        refused[name] = "409 Conflict"
                elif name in PROTECTED or name in MODIFICATION_TIME:
                    refused[name] = "403 Forbidden"
                elif setting:
                    changes.append(SetProperty(name[0], name[1], xml.serialise(element)))
                else:
                    changes.append(RemoveProperty(name[0], name[1]))
    if not names:
        raise InvalidInput("The PROPPATCH changes nothing.", field="body")
    body = await context.call(_patch, context, changes, modified_at, refused, names)
    return xml_response(body)


def _patch(
    context: DavContext,
    changes: list[SetProperty | RemoveProperty],
    modified_at: datetime | None,
    refused: dict[Name, str],
    names: list[Name],
) -> bytes:
    context.require_conditions()
    node = context.listing(context.where.path, with_children=False).node
    context.require_unlocked(LockTarget(node.path))
    if refused:  # all or nothing: the others fail because these did
        statuses = {name: refused.get(name, "424 Failed Dependency") for name in names}
    else:
        context.services.properties.patch(
            context.actor,
            space_id=context.space_id,
            path=node.path,
            changes=changes,
            modified_at=modified_at,
            client=context.client,
        )
        statuses = {name: OK for name in names}
    groups: dict[str, list[str]] = {}
    for name, status in statuses.items():
        groups.setdefault(status, []).append(xml.element(name))
    propstats = [(status, "".join(elements)) for status, elements in groups.items()]
    return xml.multistatus([xml.response(context.href(node), propstats)])


def _moment(value: str) -> datetime | None:
    """An HTTP date, or Unix seconds (as Nextcloud clients send for `lastmodified`)."""
    value = value.strip()
    try:
        if value.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(value), tz=UTC)
        moment = parsedate_to_datetime(value)
    except (ValueError, TypeError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
