"""Login (a device token for this client), logout, and the caller's own identity and devices."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from sfs.app import Services
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import EnrolmentRequired, NotAuthenticated
from sfs.domain.stages import LoginStage
from sfs.web.api.deps import ActorDep, AuthenticatedDep, ClientDep, ServicesDep
from sfs.web.api.schemas import (
    ChallengeOnly,
    DeviceOut,
    LoginRequest,
    LoginResponse,
    Problem,
    SecondFactorAnswer,
    SecondFactorChallenge,
    UserOut,
)

router = APIRouter(tags=["authentication"])

_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": Problem},
    403: {"model": Problem},
    422: {"model": Problem},
    429: {"model": Problem},
}


@router.post("/auth/login", response_model=LoginResponse, responses=_ERRORS)
def login(body: LoginRequest, services: ServicesDep, client: ClientDep) -> LoginResponse:
    """Exchange email and password for a device token, or for a second-factor challenge.

    The password is never stored by a client. An account that must still set up a second factor
    gets 403 `second_factor_enrolment_required`, and one whose administrator set a temporary
    password gets 403 `password_change_required`: both are done in the web portal first.
    """
    actor = services.login.authenticate(
        email=body.email, password=body.password, client=client, channel="api"
    )
    # Before any challenge is mailed: no token could be issued at the end of it.
    services.device_tokens.require_may_issue(actor)
    stage = services.second_factor.stage_after_password(actor, client=client)
    if stage is LoginStage.ENROLMENT:
        raise EnrolmentRequired(
            "Your organisation requires two-factor authentication: log in to the web portal "
            "once to set it up, then log in here again."
        )
    if stage is LoginStage.SECOND_FACTOR:
        pending = services.web_sessions.start(actor, client=client, stage=stage)
        method = services.second_factor.enrolled_method(actor) or ""
        return LoginResponse(
            second_factor=SecondFactorChallenge(
                challenge=pending.cookie_value,
                method=method,
                message=_challenge_message(services, actor, method),
            )
        )
    return _issue_token(services, actor, body.device_name, client)


@router.post("/auth/login/second-factor", response_model=LoginResponse, responses=_ERRORS)
def answer_second_factor(
    body: SecondFactorAnswer, services: ServicesDep, client: ClientDep
) -> LoginResponse:
    """Answer a login challenge with a code from the authenticator app or the email."""
    actor = _challenged(services, body.challenge, client)
    services.second_factor.verify(actor, code=body.code, client=client)
    services.web_sessions.discard(body.challenge)
    return _issue_token(services, actor, body.device_name, client)


@router.post(
    "/auth/login/second-factor/resend",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ERRORS,
)
def resend_email_code(body: ChallengeOnly, services: ServicesDep, client: ClientDep) -> None:
    """Mail a new code (replacing the previous one) for an email challenge."""
    actor = _challenged(services, body.challenge, client)
    services.second_factor.resend_email_code(actor, client=client)


def _challenge_message(services: Services, actor: Actor, method: str) -> str:
    if method != "email":
        return "Enter the code your authenticator app shows (or your Backup Key)."
    code = services.second_factor.email_code_status(actor)
    if code is None:
        return "No valid code was sent to your email: ask for a new one."
    return (
        f"The last code was sent to your email at {code.sent_at:%H:%M} UTC. It is valid until "
        f"{code.valid_until:%H:%M} UTC."
    )


def _challenged(services: Services, challenge: str, client: ClientInfo) -> Actor:
    try:
        pending = services.web_sessions.resolve(challenge, client=client, allow_pending=True)
    except NotAuthenticated:
        raise NotAuthenticated("The challenge is not valid or has expired. Log in again.") from None
    if pending.stage is not LoginStage.SECOND_FACTOR:
        raise NotAuthenticated("The challenge is not valid or has expired. Log in again.")
    return pending.actor


def _issue_token(
    services: Services, actor: Actor, device_name: str, client: ClientInfo
) -> LoginResponse:
    issued = services.device_tokens.issue(actor, device_name=device_name, client=client)
    user = services.accounts.get_user(actor, actor.user_id)
    return LoginResponse(token=issued.secret, device_id=issued.id, user=UserOut.of(user))


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
def logout(authenticated: AuthenticatedDep, services: ServicesDep, client: ClientDep) -> None:
    """Revoke the token this request was made with."""
    actor, token_id = authenticated
    services.device_tokens.revoke(actor, token_id, client=client)


@router.get("/me", response_model=UserOut, responses=_ERRORS)
def me(actor: ActorDep, services: ServicesDep) -> UserOut:
    return UserOut.of(services.accounts.get_user(actor, actor.user_id))


@router.get("/devices", response_model=list[DeviceOut], responses=_ERRORS)
def list_devices(authenticated: AuthenticatedDep, services: ServicesDep) -> list[DeviceOut]:
    actor, current = authenticated
    return [
        DeviceOut(
            id=device.id,
            name=device.name,
            created_at=device.created_at,
            last_used_at=device.last_used_at,
            current=device.id == current,
        )
        for device in services.device_tokens.list_own(actor)
    ]


@router.delete(
    "/devices/{device_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_ERRORS, 404: {"model": Problem}},
)
def revoke_device(
    device_id: uuid.UUID, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> None:
    services.device_tokens.revoke(actor, device_id, client=client)
