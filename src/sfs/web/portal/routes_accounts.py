"""The Accounts menu: an Organization Admin's list of accounts and each account's actions.

Thin: every rule (who may act on whom, the last Organization Admin, roles) is in the services;
these handlers parse forms, call them, and render the answer.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from sfs.domain.errors import (
    AlreadyExists,
    InvalidInput,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
)
from sfs.domain.roles import ORGANISATION_ROLES, Role
from sfs.i18n import N_
from sfs.services.identity.account_admin import MAX_PAGE_SIZE, AccountDetail
from sfs.services.identity.account_rules import require_administrator
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.errors import status_for
from sfs.web.portal.guards import require_fresh_form, to_login
from sfs.web.portal.rendering import render
from sfs.web.portal.session import client_of, current_session, services_of

router = APIRouter(include_in_schema=False)

FIELD_LIMIT = 1024
PASSWORD_LIMIT = 1024
# What a redirect after a successful action may announce on the account's page.
DONE = ("invited", "password", "second_factor", "role", "disabled", "enabled", "invitation")


def _account_id(text: str) -> uuid.UUID:
    """A malformed id is answered like an unknown one."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(N_("No such account.")) from None


def _optional_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def _to_account(user_id: uuid.UUID, done: str) -> RedirectResponse:
    return RedirectResponse(f"/accounts/{user_id}?done={done}", status_code=303)


@router.get("/accounts")
def accounts(
    request: Request, q: str = "", after: str = "", before: str = "", deleted: str = ""
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    search = q[:254]
    page = services_of(request).account_admin.page(
        active.actor, search=search, after=_optional_id(after), before=_optional_id(before)
    )
    context = {"session": active, "page": page, "search": search, "deleted": bool(deleted)}
    return render(request, "accounts.html", context)


@router.get("/accounts/new")
def new_account_form(request: Request) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_administrator(active.actor)
    return _new_account_page(request, active, form={"role": Role.USER.value})


@router.post("/accounts/new")
def new_account(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    display_name: Annotated[str, Form(max_length=FIELD_LIMIT)] = "",
    email: Annotated[str, Form(max_length=FIELD_LIMIT)] = "",
    role: Annotated[str, Form(max_length=32)] = Role.USER.value,
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    form = {"display_name": display_name, "email": email, "role": role}
    try:
        invited = services_of(request).invitations.invite(
            active.actor,
            email=email,
            display_name=display_name,
            role=_role(role),
            client=client_of(request),
        )
    except (InvalidInput, PermissionDenied, AlreadyExists) as exc:
        return _new_account_page(
            request, active, form=form, error=exc.message, status_code=status_for(exc)
        )
    return _to_account(invited.id, "invited")


def _new_account_page(
    request: Request,
    active: ActiveSession,
    *,
    form: dict[str, str],
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "account_new.html",
        {"session": active, "form": form, "error": error, "roles": _roles_for(active)},
        status_code=status_code,
    )


@router.get("/accounts/{user_id}")
def account(request: Request, user_id: str, done: str = "") -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    detail = services_of(request).account_admin.detail(active.actor, _account_id(user_id))
    return _account_page(request, active, detail, done=done if done in DONE else "")


def _account_page(
    request: Request,
    active: ActiveSession,
    detail: AccountDetail,
    *,
    done: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "session": active,
        "account": detail,
        "done": done,
        "error": error,
        "roles": _roles_for(active),
    }
    return render(request, "account_edit.html", context, status_code=status_code)


@router.get("/accounts/{user_id}/password")
def change_password_form(request: Request, user_id: str) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    detail = services_of(request).account_admin.detail(active.actor, _account_id(user_id))
    return _password_page(request, active, detail)


@router.post("/accounts/{user_id}/password")
def change_password(
    request: Request,
    user_id: str,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    new_password: Annotated[str, Form(max_length=PASSWORD_LIMIT)] = "",
    confirm_password: Annotated[str, Form(max_length=PASSWORD_LIMIT)] = "",
    require_change: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    account_id = _account_id(user_id)
    try:
        services.account_admin.change_password(
            active.actor,
            account_id,
            new_password=new_password,
            confirm_password=confirm_password,
            require_change_at_next_login=bool(require_change),
            client=client_of(request),
        )
    except (InvalidInput, PermissionDenied) as exc:
        detail = services.account_admin.detail(active.actor, account_id)
        return _password_page(
            request,
            active,
            detail,
            error=exc.message,
            require_change=bool(require_change),
            status_code=status_for(exc),
        )
    return _to_account(account_id, "password")


def _password_page(
    request: Request,
    active: ActiveSession,
    detail: AccountDetail,
    *,
    error: str | None = None,
    require_change: bool = False,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "account_edit_password.html",
        {
            "session": active,
            "account": detail,
            "error": error,
            "require_change": require_change,
            "min_password_length": detail.min_password_length,
        },
        status_code=status_code,
    )


@router.get("/accounts/{user_id}/second-factor")
def reset_second_factor_form(request: Request, user_id: str) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    detail = services_of(request).account_admin.detail(active.actor, _account_id(user_id))
    if detail.second_factor_enrolled_at is None:  # nothing to reset: the account page says so
        return RedirectResponse(f"/accounts/{detail.summary.id}", status_code=303)
    return render(
        request, "account_edit_second_factor.html", {"session": active, "account": detail}
    )


@router.post("/accounts/{user_id}/second-factor")
def reset_second_factor(
    request: Request, user_id: str, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    return _act(request, user_id, csrf_token, "second_factor")


@router.post("/accounts/{user_id}/role")
def change_role(
    request: Request,
    user_id: str,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    return _act(request, user_id, csrf_token, "role", role=role)


@router.post("/accounts/{user_id}/disable")
def disable(
    request: Request,
    user_id: str,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    wipe_devices: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    return _act(request, user_id, csrf_token, "disabled", wipe=bool(wipe_devices))


@router.post("/accounts/{user_id}/enable")
def enable(
    request: Request, user_id: str, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    return _act(request, user_id, csrf_token, "enabled")


@router.post("/accounts/{user_id}/invitation")
def resend_invitation(
    request: Request, user_id: str, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    return _act(request, user_id, csrf_token, "invitation")


def _act(
    request: Request,
    user_id: str,
    csrf_token: str,
    action: str,
    role: str = "",
    *,
    wipe: bool = False,
) -> Response:
    """One button on the account's page: do it, or show why not on the same page."""
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    account_id = _account_id(user_id)
    actor, client = active.actor, client_of(request)
    try:
        if action == "second_factor":
            services.account_admin.reset_second_factor(actor, account_id, client=client)
        elif action == "role":
            services.account_admin.change_role(actor, account_id, role=_role(role), client=client)
        elif action == "disabled":
            services.account_admin.disable(actor, account_id, client=client, wipe_devices=wipe)
        elif action == "enabled":
            services.account_admin.enable(actor, account_id, client=client)
        else:
            services.invitations.resend(actor, account_id, client=client)
    except (InvalidInput, PermissionDenied) as exc:
        detail = services.account_admin.detail(actor, account_id)
        return _account_page(
            request, active, detail, error=exc.message, status_code=status_for(exc)
        )
    return _to_account(account_id, action)


@router.get("/accounts/{user_id}/delete")
def delete_form(request: Request, user_id: str) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    detail = services_of(request).account_admin.detail(active.actor, _account_id(user_id))
    return _delete_page(request, active, detail)


@router.post("/accounts/{user_id}/delete")
def delete(
    request: Request,
    user_id: str,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    confirm_email: Annotated[str, Form(max_length=FIELD_LIMIT)] = "",
    transfer_to: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    account_id = _account_id(user_id)
    try:
        services.account_admin.delete(
            active.actor,
            account_id,
            confirm_email=confirm_email,
            client=client_of(request),
            transfer_to=_receiver(transfer_to),
        )
    except (InvalidInput, PermissionDenied, QuotaExceeded) as exc:
        detail = services.account_admin.detail(active.actor, account_id)
        return _delete_page(request, active, detail, error=exc.message, status_code=status_for(exc))
    return RedirectResponse("/accounts?deleted=1", status_code=303)


def _delete_page(
    request: Request,
    active: ActiveSession,
    detail: AccountDetail,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    # Who may receive the files: the organisation's other members (the first page of them).
    try:
        members = services_of(request).account_admin.page(active.actor, limit=MAX_PAGE_SIZE)
        receivers = [m for m in members.accounts if m.id != detail.summary.id]
    except InvalidInput:  # a provider administrator lists no organisation by default
        receivers = []
    return render(
        request,
        "account_edit_delete.html",
        {"session": active, "account": detail, "error": error, "receivers": receivers},
        status_code=status_code,
    )


def _receiver(value: str) -> uuid.UUID | None:
    """The member chosen to receive the files; an id that is none is refused by the service."""
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput(
            N_("Choose another member of the organisation to receive the files."),
            field="transfer_to",
        ) from None


def _role(value: str) -> Role:
    try:
        role = Role(value)
    except ValueError:
        raise InvalidInput(N_("Choose a role."), field="role") from None
    return role


def _roles_for(active: ActiveSession) -> list[Role]:
    """The roles this admin may hand out (never above their own)."""
    return [role for role in ORGANISATION_ROLES if role.rank <= active.actor.role.rank]
