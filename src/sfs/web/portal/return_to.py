"""Where a browser goes back to once logged in, when a page sent it to log in first.

Only the Login Flow v2 page asks for this (a device waits for the user's answer there); the
address is kept in a short-lived cookie, never a query parameter, and only addresses of that
page are followed, so nobody can make the login page send a browser elsewhere.
"""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import Response

from sfs.web.portal.session import services_of

RETURN_COOKIE = "sfs_return_to"
_RETURNABLE = re.compile(r"/login/v2/flow/[A-Za-z0-9_-]{1,128}")
MAX_AGE_SECONDS = 20 * 60


def remember_return(response: Response, request: Request, path: str) -> None:
    if _RETURNABLE.fullmatch(path):
        response.set_cookie(
            RETURN_COOKIE,
            path,
            max_age=MAX_AGE_SECONDS,
            httponly=True,
            samesite="lax",
            secure=services_of(request).settings.served_over_https,
            path="/",
        )


def pending_return(request: Request) -> str | None:
    path = request.cookies.get(RETURN_COOKIE, "")
    return path if _RETURNABLE.fullmatch(path) else None


def forget_return(response: Response) -> None:
    response.delete_cookie(RETURN_COOKIE, path="/")
