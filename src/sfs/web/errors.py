"""Domain errors become HTTP answers here, and only here."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from sfs.domain.errors import (
    AccountUnavailable,
    AlreadyExists,
    AuthenticationFailed,
    Conflict,
    DamagedFile,
    EnrolmentRequired,
    InvalidCode,
    InvalidInput,
    LinkGone,
    LinkPasswordRequired,
    Locked,
    NotAuthenticated,
    NotFound,
    PasswordChangeRequired,
    PermissionDenied,
    PreconditionFailed,
    QuotaExceeded,
    RangeNotSatisfiable,
    ResendTooSoon,
    SfsError,
    TooLarge,
    TooManyAttempts,
)

_STATUS: list[tuple[type[SfsError], int]] = [
    (InvalidInput, 422),
    (AlreadyExists, 409),
    (NotFound, 404),
    (PermissionDenied, 403),
    (AccountUnavailable, 403),
    (AuthenticationFailed, 401),
    (NotAuthenticated, 401),
    (TooManyAttempts, 429),
    (Conflict, 409),
    (DamagedFile, 500),
    (QuotaExceeded, 507),
    (Locked, 423),
    (PreconditionFailed, 412),
    (ResendTooSoon, 429),
    (InvalidCode, 401),
    (EnrolmentRequired, 403),
    (PasswordChangeRequired, 403),
    (LinkGone, 410),
    (LinkPasswordRequired, 401),
    (TooLarge, 413),
    (RangeNotSatisfiable, 416),
]

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "request_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "invalid_input",
    429: "too_many_attempts",
}


def status_for(error: SfsError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400


def headers_for(error: SfsError) -> dict[str, str]:
    if isinstance(error, TooManyAttempts | ResendTooSoon):
        return {"Retry-After": str(error.retry_after_seconds)}
    if isinstance(error, NotAuthenticated | AuthenticationFailed):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, RangeNotSatisfiable):
        return {"Content-Range": f"bytes */{error.size}"}
    return {}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, str]:
    body = {"code": code, "message": message}
    if field:
        body["field"] = field
    return body


def domain_error_answer(error: SfsError) -> JSONResponse:
    """The API's answer to a domain error."""
    field = error.field if isinstance(error, InvalidInput) else None
    return JSONResponse(
        error_body(error.code, error.message, field),
        status_code=status_for(error),
        headers=headers_for(error),
    )


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route at this path answers. Starlette's 405 names those of the first
    route that matched the path alone, and FastAPI makes a route per method."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


def install_api_error_handlers(app: FastAPI) -> None:
    """JSON errors with a stable `code` and a human `message`."""

    async def domain_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SfsError)
        return domain_error_answer(exc)

    async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        if errors and errors[0].get("type") == "json_invalid":  # malformed, not invalid
            reason = errors[0].get("ctx", {}).get("error", "")
            return JSONResponse(
                error_body("bad_request", f"The body is not valid JSON: {reason}."),
                status_code=400,
            )
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first["loc"] if part != "body")
        message = f"{where}: {first['msg']}" if where else str(first["msg"])
        return JSONResponse(error_body("invalid_input", message, where or None), status_code=422)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers
        )

    app.add_exception_handler(SfsError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
