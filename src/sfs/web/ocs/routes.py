"""status.php and the OCS endpoints the Nextcloud clients call: capabilities, the signed-in
user, and revoking the app password in use (the client's "log out")."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from sfs.domain.errors import NotFound, PermissionDenied
from sfs.web.ocs import capabilities, envelope
from sfs.web.ocs.calls import login_of, ocs_call
from sfs.web.ocs.user import user_data
from sfs.web.portal.session import client_of, services_of

router = APIRouter(include_in_schema=False)
OCS = "/ocs/v{version}.php"


@router.get("/status.php")
def status_php() -> Response:
    return JSONResponse(capabilities.status())


@router.get(OCS + "/cloud/capabilities")
def cloud_capabilities(request: Request, version: str) -> Response:
    # Public, as in Nextcloud: a client reads it before it has credentials. With them, the
    # sharing part states the caller's organisation's policy.
    def produce() -> envelope.Data:
        if not request.headers.get("authorization"):
            return capabilities.capabilities()
        actor = login_of(request).actor
        policies = services_of(request).link_policy
        return capabilities.capabilities(
            policies.policy(actor), internal_sharing=policies.internal_sharing_allowed(actor)
        )

    return ocs_call(request, version, produce)


@router.get(OCS + "/cloud/user")
def cloud_user(request: Request, version: str) -> Response:
    def produce() -> envelope.Data:
        login = login_of(request)
        return user_data(services_of(request), login.actor)

    return ocs_call(request, version, produce)


@router.delete(OCS + "/core/apppassword")
def delete_app_password(request: Request, version: str) -> Response:
    def produce() -> envelope.Data:
        login = login_of(request)
        if login.app_password_id is None:
            raise PermissionDenied(
                "You are signed in with your account password: there is no app password to revoke."
            )
        services_of(request).app_passwords.revoke(
            login.actor, login.app_password_id, client=client_of(request)
        )
        return []

    return ocs_call(request, version, produce)


@router.api_route(
    OCS + "/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
)
def unknown(request: Request, version: str, rest: str) -> Response:
    def produce() -> envelope.Data:
        raise NotFound("No such OCS endpoint.")

    return ocs_call(request, version, produce)
