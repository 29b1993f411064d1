"""Nextcloud's OCS Share API, `/ocs/v{1,2}.php/apps/files_sharing/api/v1/shares`: list, get,
create, update, delete links (share type 3) and shares with a colleague (0) or a group (1).

Parameters come as the clients send them: the query string, a form body, or a JSON body. Paths
are paths of the caller's files as the Nextcloud door shows them (My Files at the top, team
folders as top-level folders: `services/sharing/files_root.py`). Links are the link service's,
shares the share service's; every rule (policy, roles, tenancy) is theirs. A share type this
server does not have (4 email, 6 federated, 10 talk…) is refused with 400, never faked.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import date

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from sfs.app import Services
from sfs.domain.actor import Actor
from sfs.domain.errors import InvalidInput, NotFound, PermissionDenied
from sfs.services.sharing.files_root import FilesRoot
from sfs.services.sharing.links import UNCHANGED, LinkChanges, LinkOptions, LinkView
from sfs.services.sharing.shares import ShareView
from sfs.web.ocs import envelope
from sfs.web.ocs.calls import login_of, ocs_call
from sfs.web.ocs.share_fields import (
    CREATE,
    READ,
    TYPE_GROUP,
    TYPE_LINK,
    TYPE_USER,
    link_fields,
    received_fields,
    role_of_permissions,
    share_fields,
    sharees_fields,
)
from sfs.web.portal.session import client_of, services_of

router = APIRouter(include_in_schema=False)
SHARES = "/ocs/v{version}.php/apps/files_sharing/api/v1/shares"
SHAREES = "/ocs/v{version}.php/apps/files_sharing/api/v1/sharees"
Params = Mapping[str, str]


@router.get(SHARES)
async def list_shares(request: Request, version: str) -> Response:
    given = await _params(request)

    def produce() -> envelope.Data:
        actor = login_of(request).actor
        params = _given(given)
        services = services_of(request)
        if _flag(params, "shared_with_me"):
            received = services.shares.shared_with_me(actor)
            numbers = services.share_numbers.numbers(actor, shares=[item.id for item in received])
            root = services.files_root.root(actor)
            return [
                received_fields(
                    item, numbers[item.id], actor, root.outer_path(item.id, "/") or "/" + item.name
                )
                for item in received
            ]
        root = services.files_root.root(actor)
        path = params.get("path")
        if path is None:
            return _all_of(services, actor, root)
        if _flag(params, "subfiles"):
            folder = _normalised(path)
            return [
                item
                for item in _all_of(services, actor, root)
                if str(item["path"]).rsplit("/", 1)[0] == folder.rstrip("/")
            ]
        return _of_path(services, actor, root, path)

    return await _call(request, version, produce)


@router.get(SHAREES)
async def find_sharees(request: Request, version: str) -> Response:
    """The share dialog's "share with…" box: colleagues and groups matching `search`."""

    def produce() -> envelope.Data:
        actor = login_of(request).actor
        found = services_of(request).sharees.find(actor, request.query_params.get("search", ""))
        return sharees_fields(found, request.query_params.get("search", ""))

    return await _call(request, version, produce)


@router.get(SHARES + "/{share_id}")
async def get_share(request: Request, version: str, share_id: str) -> Response:
    def produce() -> envelope.Data:
        actor = login_of(request).actor
        services = services_of(request)
        root = services.files_root.root(actor)
        found = _find(services, actor, share_id)
        return [_fields(services, actor, root, found)]

    return await _call(request, version, produce)


@router.post(SHARES)
async def create_share(request: Request, version: str) -> Response:
    given = await _params(request)

    def produce() -> envelope.Data:
        actor = login_of(request).actor
        params = _given(given)
        services = services_of(request)
        root = services.files_root.root(actor)
        share_type = _int(params, "shareType")
        path = params.get("path")
        if not path:
            raise InvalidInput("Please specify a file or folder path.", field="path")
        where = root.locate(path)
        if share_type == TYPE_LINK:
            return _create_link(services, request, actor, root, where.space.id, where.path, params)
        if share_type in (TYPE_USER, TYPE_GROUP):
            with_ = params.get("shareWith", "").strip()
            if not with_:
                raise InvalidInput("Please specify a recipient (shareWith).", field="shareWith")
            bits = _int(params, "permissions") if params.get("permissions") else READ
            created = services.shares.create(
                actor,
                space_id=where.space.id,
                path=where.path,
                role=role_of_permissions(bits),
                client=client_of(request),
                user_email=with_ if share_type == TYPE_USER else None,
                group_name=with_ if share_type == TYPE_GROUP else None,
            )
            return _fields(services, actor, root, created)
        raise InvalidInput("Unknown share type: this server has links (3), users (0), groups (1).")

    return await _call(request, version, produce)


@router.put(SHARES + "/{share_id}")
async def update_share(request: Request, version: str, share_id: str) -> Response:
    given = await _params(request)

    def produce() -> envelope.Data:
        actor = login_of(request).actor
        params = _given(given)
        services = services_of(request)
        root = services.files_root.root(actor)
        found = _find(services, actor, share_id)
        _refuse_unsupported(params)
        if isinstance(found, LinkView):
            changed = services.share_links.update(
                actor, found.id, _link_changes(found, params), client=client_of(request)
            )
            return _fields(services, actor, root, changed)
        if "password" in params or params.get("expireDate"):
            raise InvalidInput("Shares with colleagues have no password or expiry date here.")
        if "permissions" not in params:
            raise InvalidInput("Wrong or no update parameter given.")
        updated = services.shares.update(
            actor,
            found.id,
            role=role_of_permissions(_int(params, "permissions")),
            client=client_of(request),
        )
        return _fields(services, actor, root, updated)

    return await _call(request, version, produce)


@router.delete(SHARES + "/{share_id}")
async def delete_share(request: Request, version: str, share_id: str) -> Response:
    def produce() -> envelope.Data:
        actor = login_of(request).actor
        services = services_of(request)
        found = _find(services, actor, share_id)
        if isinstance(found, LinkView):
            services.share_links.revoke(actor, found.id, client=client_of(request))
        else:
            services.shares.delete(actor, found.id, client=client_of(request))
        return []

    return await _call(request, version, produce)


# -- the pieces ---------------------------------------------------------------------------


async def _call(request: Request, version: str, produce: Callable[[], envelope.Data]) -> Response:
    return await anyio.to_thread.run_sync(lambda: ocs_call(request, version, produce))


async def _params(request: Request) -> dict[str, str] | InvalidInput:
    """Query string, then a form or JSON body on top (the clients use all three); a body that
    cannot be read is returned as the problem, for the handler to answer in the envelope."""
    params = dict(request.query_params)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        raw = await request.body()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return InvalidInput("The body is not valid JSON.")
        if not isinstance(body, dict):
            return InvalidInput("The JSON body must be an object.")
        params.update({str(key): _text(value) for key, value in body.items()})
    elif kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            async with request.form(max_files=0, max_fields=50) as form:
                params.update({key: value for key, value in form.items() if isinstance(value, str)})
        except (MultiPartException, HTTPException):
            return InvalidInput("The form body cannot be read.")
    return params


def _given(params: dict[str, str] | InvalidInput) -> dict[str, str]:
    if isinstance(params, InvalidInput):
        raise params
    return params


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _flag(params: Params, name: str) -> bool:
    return params.get(name, "").strip().lower() in ("true", "1", "yes")


def _int(params: Params, name: str) -> int:
    text = params.get(name, "").strip()
    if not text.isdigit() or len(text) > 6:
        raise InvalidInput(f"{name} must be a whole number.", field=name)
    return int(text)


def _named(services: Services, actor: Actor, text: str) -> tuple[str | None, uuid.UUID]:
    """The link or share a client's share id names: our number for it, or (from before numbers
    were given) its UUID, which may name either."""
    if text.isascii() and text.isdigit() and len(text) <= 10:
        named = services.share_numbers.named(actor, int(text))
        if named is not None:
            return named.kind, named.id
    else:
        with contextlib.suppress(ValueError):
            return None, uuid.UUID(text)
    raise NotFound("Wrong share ID, share does not exist.")


def _normalised(path: str) -> str:
    return "/" + "/".join(part for part in path.split("/") if part)


def _day(text: str) -> date | None:
    """Nextcloud's expireDate: YYYY-MM-DD (a time after it is ignored); empty means none."""
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise InvalidInput(
            "Invalid date, date format must be YYYY-MM-DD.", field="expireDate"
        ) from None


def _link_kind(params: Params, *, default: tuple[bool, bool]) -> tuple[bool, bool]:
    """(upload_only, can_edit) from publicUpload or permissions; `default` if neither."""
    if "permissions" in params and params["permissions"].strip():
        bits = _int(params, "permissions")
        if bits & CREATE:
            return (not bits & READ, bool(bits & READ))
        return (False, False)
    if "publicUpload" in params:
        return (False, _flag(params, "publicUpload"))
    return default


def _create_link(
    services: Services,
    request: Request,
    actor: Actor,
    root: FilesRoot,
    space_id: uuid.UUID,
    path: str,
    params: Params,
) -> envelope.Data:
    upload_only, can_edit = _link_kind(params, default=(False, False))
    password = params.get("password") or None
    try:
        created = services.share_links.create(
            actor,
            space_id=space_id,
            path=path,
            options=LinkOptions(
                password=password,
                expires_on=_day(params.get("expireDate", "")),
                upload_only=upload_only,
                can_edit=can_edit,
            ),
            client=client_of(request),
        )
    except InvalidInput as exc:
        if exc.field == "password" and password is None:
            # The desktop client reads a 403 here as "this server wants a password".
            raise PermissionDenied(exc.message) from None
        raise
    number = services.share_numbers.numbers(actor, links=[created.link.id])[created.link.id]
    return link_fields(
        created.link,
        number,
        actor,
        _outer(root, created.link),
        token=created.token,
        url=services.notifier.link(created.path),
    )


def _link_changes(link: LinkView, params: Params) -> LinkChanges:
    kind_given = "permissions" in params or "publicUpload" in params
    upload_only, can_edit = _link_kind(params, default=(link.upload_only, link.can_edit))
    return LinkChanges(
        password=(params["password"] or None) if "password" in params else UNCHANGED,
        expires_on=_day(params["expireDate"]) if "expireDate" in params else UNCHANGED,
        upload_only=upload_only if kind_given else UNCHANGED,
        can_edit=can_edit if kind_given else UNCHANGED,
    )


def _refuse_unsupported(params: Params) -> None:
    """Notes, labels and hiding downloads are not kept here: refused rather than dropped."""
    for name in ("note", "label"):
        if params.get(name, "").strip():
            raise InvalidInput(f"This server keeps no {name} on a share.", field=name)
    if _flag(params, "hideDownload"):
        raise InvalidInput("This server cannot hide downloads of a link.", field="hideDownload")


def _find(services: Services, actor: Actor, text: str) -> LinkView | ShareView:
    kind, share_id = _named(services, actor, text)
    link: LinkView | None = None
    if kind in (None, "link"):
        with contextlib.suppress(NotFound):
            link = services.share_links.link(actor, share_id)
    if link is not None:
        if link.state in _DEAD:  # a revoked link is a deleted share, as Nextcloud sees it
            raise NotFound("Wrong share ID, share does not exist.")
        return link
    if kind == "link":
        raise NotFound("Wrong share ID, share does not exist.")
    try:
        return services.shares.share(actor, share_id)
    except (NotFound, PermissionDenied):
        raise NotFound("Wrong share ID, share does not exist.") from None


def _outer(root: FilesRoot, view: LinkView | ShareView) -> str:
    return root.outer_path(view.space_id, view.path) or view.path


def _fields(
    services: Services, actor: Actor, root: FilesRoot, view: LinkView | ShareView
) -> dict[str, object]:
    return _all_fields(services, actor, root, [view])[0]


def _all_fields(
    services: Services, actor: Actor, root: FilesRoot, views: list[LinkView | ShareView]
) -> list[dict[str, object]]:
    """The views as the clients read them, each with its number (given in one go)."""
    numbers = services.share_numbers.numbers(
        actor,
        links=[v.id for v in views if isinstance(v, LinkView)],
        shares=[v.id for v in views if isinstance(v, ShareView)],
    )
    return [
        link_fields(view, numbers[view.id], actor, _outer(root, view))
        if isinstance(view, LinkView)
        else share_fields(view, numbers[view.id], actor, _outer(root, view))
        for view in views
    ]


def _all_of(services: Services, actor: Actor, root: FilesRoot) -> list[dict[str, object]]:
    """Every live link the caller made and every share they manage, in paths they can see."""
    links = [view for view in services.share_links.mine(actor) if view.state not in _DEAD]
    shares = services.shares.shares_by(actor)
    views: list[LinkView | ShareView] = [*links, *shares]
    return _all_fields(
        services, actor, root, [view for view in views if root.outer_path(view.space_id, view.path)]
    )


def _of_path(
    services: Services, actor: Actor, root: FilesRoot, path: str
) -> list[dict[str, object]]:
    where = root.locate(path)
    links = services.share_links.links_of(actor, space_id=where.space.id, path=where.path)
    views: list[LinkView | ShareView] = [view for view in links if view.state not in _DEAD]
    # A Viewer or Editor of a team folder sees their links there, not its shares.
    with contextlib.suppress(PermissionDenied):
        views += services.shares.shares_of(actor, space_id=where.space.id, path=where.path)
    return _all_fields(services, actor, root, views)


_DEAD = ("revoked", "gone")
