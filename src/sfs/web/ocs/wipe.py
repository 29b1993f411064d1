"""Remote wipe as the Nextcloud clients ask for it (`RemoteWipe` in their developer manual).

After a 401 or 403 a client posts its app password as `token=` to `/index.php/core/wipe/check`:
`{"wipe": true}` tells it to erase its files and accounts, a 404 (`[]`) that nothing is asked.
When done it posts the same to `/index.php/core/wipe/success`: 200 (`[]`) once, 404 after (a
replay sends no second email). Both are public, as in Nextcloud: the app password is the
credential, and a wiped one answers nothing else. The rules are in
`services/identity/device_wipe.py`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from sfs.domain.errors import NotFound
from sfs.services.identity.device_wipe import MAX_SECRET_LENGTH
from sfs.web.portal.session import client_of, services_of

router = APIRouter(include_in_schema=False)
PREFIXES = ("/index.php/core/wipe", "/core/wipe")
NO_STORE = {"Cache-Control": "no-store"}
TokenForm = Annotated[str, Form(max_length=MAX_SECRET_LENGTH)]


def check(request: Request, token: TokenForm = "") -> Response:
    if services_of(request).device_wipe.must_wipe(
        _token(request, token), client=client_of(request)
    ):
        return JSONResponse({"wipe": True}, headers=NO_STORE)
    return _not_found()


def success(request: Request, token: TokenForm = "") -> Response:
    try:
        services_of(request).device_wipe.confirm(_token(request, token), client=client_of(request))
    except NotFound:
        return _not_found()
    return JSONResponse([], headers=NO_STORE)


def _token(request: Request, form_value: str) -> str:
    # Nextcloud reads the parameter from the body or the query string alike.
    return form_value or request.query_params.get("token", "")[:MAX_SECRET_LENGTH]


def _not_found() -> Response:
    return JSONResponse([], status_code=404, headers=NO_STORE)


for prefix in PREFIXES:
    router.add_api_route(prefix + "/check", check, methods=["POST"])
    router.add_api_route(prefix + "/success", success, methods=["POST"])
