"""The owner's side of share links in the portal: the "Share link" form of a file or folder with
its links (changeable, revocable), the organisation's live links and its link policy for
administrators."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from sfs.auth.password_policy import MAX_LENGTH
from sfs.domain.errors import InvalidInput, NotFound, PermissionDenied
from sfs.i18n import N_
from sfs.services.identity.web_sessions import ActiveSession
from sfs.services.sharing.link_policy import LinkPolicyView
from sfs.services.sharing.links import UNCHANGED, LinkChanges, LinkOptions, LinkView
from sfs.web.errors import status_for
from sfs.web.portal.guards import require_fresh_form, to_login
from sfs.web.portal.rendering import render
from sfs.web.portal.routes_files import (
    Place,
    action_url,
    clean_path,
    crumbs,
    my_space,
    parent_path,
    place_of,
)
from sfs.web.portal.session import client_of, current_session, services_of

router = APIRouter(include_in_schema=False)

Checkbox = Annotated[str, Form(max_length=8)]


@router.get("/file/share/{path:path}")
def share_page(request: Request, path: str, space: str = "") -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    place = place_of(services_of(request), active.actor, space)
    return _share_page(request, active, place, clean_path(path))


@router.post("/file/share/{path:path}")
def create_link(
    request: Request,
    path: str,
    space: str = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    password: Annotated[str, Form(max_length=MAX_LENGTH + 1)] = "",
    expires: Annotated[str, Form(max_length=10)] = "",
    max_downloads: Annotated[str, Form(max_length=8)] = "",
    upload_only: Checkbox = "",
    can_edit: Checkbox = "",
    notify_owner: Checkbox = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    place = place_of(services, active.actor, space)
    path = clean_path(path)
    try:
        options = LinkOptions(
            password=password or None,
            expires_on=_day(expires),
            max_downloads=_count(max_downloads),
            upload_only=bool(upload_only),
            can_edit=bool(can_edit),
            notify_owner=bool(notify_owner),
        )
        created = services.share_links.create(
            active.actor,
            space_id=place.id,
            path=path,
            options=options,
            client=client_of(request),
        )
    except (InvalidInput, PermissionDenied) as exc:
        return _share_page(
            request, active, place, path, error=exc.message, status_code=status_for(exc)
        )
    return _share_page(
        request, active, place, path, new_url=services.notifier.link(created.path), status_code=201
    )


@router.post("/file/share-revoke/{link_id}")
def revoke_link(
    request: Request,
    link_id: str,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    back: Annotated[str, Form(max_length=4200)] = "",
    space: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services_of(request).share_links.revoke(
        active.actor, _link_id(link_id), client=client_of(request)
    )
    # Back to the file's share page, or to the organisation's list; never anywhere else.
    if back == "organisation":
        return RedirectResponse("/organisation/links?done=revoked", status_code=303)
    place = place_of(services_of(request), active.actor, space)
    target = action_url("share", clean_path(back), place.ref, done="revoked")
    return RedirectResponse(target, status_code=303)


@router.get("/file/share-edit/{link_id}")
def edit_page(request: Request, link_id: str) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    link = services_of(request).share_links.link(active.actor, _link_id(link_id))
    return _edit_page(request, active, link, saved=request.query_params.get("done") == "saved")


@router.post("/file/share-edit/{link_id}")
def save_link(
    request: Request,
    link_id: str,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    password: Annotated[str, Form(max_length=MAX_LENGTH + 1)] = "",
    remove_password: Checkbox = "",
    expires: Annotated[str, Form(max_length=10)] = "",
    max_downloads: Annotated[str, Form(max_length=8)] = "",
    upload_only: Checkbox = "",
    can_edit: Checkbox = "",
    notify_owner: Checkbox = "",
) -> Response:
    """The form sends every field: an empty password keeps the present one, an empty date
    or limit means none; the service records only what really changed."""
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    link = services.share_links.link(active.actor, _link_id(link_id))
    try:
        if password and remove_password:
            raise InvalidInput(N_("Give a new password or remove it, not both."), field="password")
        folder = link.kind == "folder"
        changes = LinkChanges(
            password=password if password else None if remove_password else UNCHANGED,
            expires_on=_day(expires),
            max_downloads=_count(max_downloads),
            upload_only=bool(upload_only) if folder else UNCHANGED,
            can_edit=bool(can_edit) if folder else UNCHANGED,
            notify_owner=bool(notify_owner),
        )
        services.share_links.update(active.actor, link.id, changes, client=client_of(request))
    except (InvalidInput, PermissionDenied) as exc:
        return _edit_page(request, active, link, error=exc.message, status_code=status_for(exc))
    return RedirectResponse(f"/file/share-edit/{link.id}?done=saved", status_code=303)


@router.get("/organisation/links")
def organisation_links(request: Request, done: str = "") -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    links = services_of(request).share_links.organisation_links(active.actor)
    context = {"session": active, "links": links, "revoked": done == "revoked"}
    return render(request, "organisation_links.html", context)


@router.get("/organisation/link-policy")
def policy_page(request: Request, done: str = "") -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    if not active.actor.is_org_admin:
        raise PermissionDenied(N_("Only the organisation's administrators set link rules."))
    policy = services_of(request).link_policy.policy(active.actor)
    return _policy_page(request, active, policy, saved=done == "saved")


@router.post("/organisation/link-policy")
def save_policy(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    links_allowed: Checkbox = "",
    password_required: Checkbox = "",
    upload_only_allowed: Checkbox = "",
    max_expiry_days: Annotated[str, Form(max_length=8)] = "",
    default_expiry_days: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    policy = LinkPolicyView(
        links_allowed=bool(links_allowed),
        password_required=bool(password_required),
        upload_only_allowed=bool(upload_only_allowed),
    )
    try:
        policy = replace(
            policy,
            max_expiry_days=_count(max_expiry_days, field="max_expiry_days"),
            default_expiry_days=_count(default_expiry_days, field="default_expiry_days"),
        )
        services_of(request).link_policy.set_policy(active.actor, policy, client=client_of(request))
    except InvalidInput as exc:
        return _policy_page(request, active, policy, error=exc.message, status_code=422)
    return RedirectResponse("/organisation/link-policy?done=saved", status_code=303)


def _share_page(
    request: Request,
    active: ActiveSession,
    place: Place,
    path: str,
    *,
    new_url: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    services = services_of(request)
    node = services.file_tree.stat(active.actor, space_id=place.id, path=path)
    links = services.share_links.links_of(active.actor, space_id=place.id, path=path)
    policy = services.link_policy.policy(active.actor)
    context = {
        "session": active,
        "place": place,
        "node": node,
        "crumbs": crumbs(parent_path(node.path), place.ref),
        "links": links,
        "policy": policy,
        "new_url": new_url,
        "error": error,
        "revoked": request.query_params.get("done") == "revoked",
    }
    return render(request, "files_share.html", context, status_code=status_code)


def _edit_page(
    request: Request,
    active: ActiveSession,
    link: LinkView,
    *,
    saved: bool = False,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    services = services_of(request)
    my_files = link.space_id == my_space(services, active.actor)
    context = {
        "session": active,
        "link": link,
        # The form shows the last day the link works; it stops at the midnight after it.
        "last_day": (link.expires_at - timedelta(days=1)).date().isoformat()
        if link.expires_at
        else "",
        "policy": services.link_policy.policy(active.actor),
        "back": action_url("share", link.path) if my_files and link.path else None,
        "saved": saved,
        "error": error,
    }
    return render(request, "link_edit.html", context, status_code=status_code)


def _policy_page(
    request: Request,
    active: ActiveSession,
    policy: LinkPolicyView,
    *,
    saved: bool = False,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {"session": active, "policy": policy, "saved": saved, "error": error}
    return render(request, "organisation_link_policy.html", context, status_code=status_code)


def _day(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(N_("Give the date as YYYY-MM-DD."), field="expires") from None


def _count(text: str, *, field: str = "max_downloads") -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 7:
        raise InvalidInput(N_("Give a whole number."), field=field)
    return int(text)


def _link_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(N_("No such link.")) from None
