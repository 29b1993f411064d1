"""The error answers the OpenAPI document promises: one shared set per kind of route.

Every error is a `Problem` (JSON `{"code", "message"}`). What an operation may answer because of
its shape is added to every operation by `document_common_errors`, so no route can forget it:
a token to check (401), a path parameter that may name nothing (404), parameters or a body to
validate (422), a JSON body that may not parse (400) or be over its size cap (413). What the
services behind a route may refuse is declared on the route from the sets below.
"""

from __future__ import annotations

from typing import Any

from sfs.web.api.schemas import Problem

DESCRIPTIONS = {
    400: "The body is not well-formed JSON (or not UTF-8).",
    401: "No valid device token, or a wrong credential.",
    403: "Not allowed for this account (for example a provider administrator, who has no "
    "files; or a step the web portal must do first).",
    404: "Not found, or not visible to this account.",
    408: "The request body stopped arriving before it was complete.",
    409: "Conflict with the current state (a stale base version, a name in use).",
    413: "The request body is over this operation's size limit.",
    416: "The range lies outside the file.",
    422: "Invalid input; `field` names it when it is one field. Paths and names also follow "
    "rules a schema cannot state (at most 255 bytes of UTF-8 per name, no '.' or '..').",
    429: "Too many attempts or uploads at once; see Retry-After.",
    507: "The storage quota is full.",
}

Responses = dict[int | str, dict[str, Any]]


def problems(*codes: int) -> Responses:
    return {code: {"model": Problem, "description": DESCRIPTIONS[code]} for code in codes}


# Reading in a space: provider administrators have no files (403); the space, path or version
# may not exist (404); a path may break the name rules, or name a folder where a file is meant.
SPACE_READ = problems(403, 404, 422)
# Writing in a space may also meet a newer version or a name in use, or a full quota.
SPACE_WRITE = problems(403, 404, 409, 422, 507)
# A raw (not JSON) upload: over its ceiling, or more uploads at once than allowed.
CHUNK_UPLOAD = problems(413, 429)
CONTENT_UPLOAD = problems(408, 429)
# Account administration and the audit log: Organization Admins only.
ADMIN = problems(403)
# Logging in: wrong credentials, a second factor to enrol first, throttled.
LOGIN = problems(401, 403, 429)

_PROBLEM = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_FASTAPI_VALIDATION = "#/components/schemas/HTTPValidationError"


def document_common_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """Add to each operation the errors its shape allows (see the module docstring)."""
    for path, item in spec.get("paths", {}).items():
        for operation in item.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            body = operation.get("requestBody", {}).get("content", {})
            shaped = {
                401: bool(operation.get("security")),
                404: "{" in path,
                422: bool(operation.get("parameters") or body),
                400: "application/json" in body,
                413: "application/json" in body,
            }
            for code, applies in shaped.items():
                if applies:
                    _document(responses, code)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Problem", Problem.model_json_schema())
    # FastAPI's own 422 shape is never sent: our handler answers validation errors as Problem.
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return spec


def _document(responses: dict[str, Any], code: int) -> None:
    existing = responses.get(str(code))
    if existing is not None and _FASTAPI_VALIDATION not in str(existing):
        return
    responses[str(code)] = {"description": DESCRIPTIONS[code], "content": _PROBLEM}
