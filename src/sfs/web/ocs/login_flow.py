"""Login Flow v2, the client's side: start a flow, then poll until the user granted access.

`POST /index.php/login/v2` (or `/login/v2`) answers where to poll and the address to open in a
browser (the portal's page, `web/portal/routes_login_flow.py`); `POST …/login/v2/poll` with
`token=` answers 404 until the user granted access, then once the server, login name and a new
app password, then 404 again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from sfs.domain.errors import NotFound, TooManyAttempts
from sfs.services.identity.login_flow import MAX_TOKEN_LENGTH
from sfs.web.portal.session import client_of, services_of

router = APIRouter(include_in_schema=False)
PREFIXES = ("/index.php/login/v2", "/login/v2")
NO_STORE = {"Cache-Control": "no-store"}


def start(request: Request) -> Response:
    services = services_of(request)
    try:
        started = services.login_flows.start(client=client_of(request))
    except TooManyAttempts as exc:  # a client, not a browser: JSON, not the portal's page
        return JSONResponse(
            {"message": exc.message},
            status_code=429,
            headers={**NO_STORE, "Retry-After": str(exc.retry_after_seconds)},
        )
    base = services.settings.base_url
    return JSONResponse(
        {
            "poll": {"token": started.poll_token, "endpoint": f"{base}/login/v2/poll"},
            "login": f"{base}/login/v2/flow/{started.login_token}",
        },
        headers=NO_STORE,
    )


def poll(
    request: Request, token: Annotated[str, Form(max_length=MAX_TOKEN_LENGTH)] = ""
) -> Response:
    services = services_of(request)
    token = token or request.query_params.get("token", "")[:MAX_TOKEN_LENGTH]
    try:
        collected = services.login_flows.collect(token, client=client_of(request))
    except NotFound as exc:
        return JSONResponse({"message": exc.message}, status_code=404, headers=NO_STORE)
    return JSONResponse(
        {
            "server": services.settings.base_url,
            "loginName": collected.login_name,
            "appPassword": collected.app_password,
        },
        headers=NO_STORE,
    )


for prefix in PREFIXES:
    router.add_api_route(prefix, start, methods=["POST"])
    router.add_api_route(prefix + "/poll", poll, methods=["POST"])
