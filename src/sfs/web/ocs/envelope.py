"""The OCS answer format: `{"ocs": {"meta": …, "data": …}}` as JSON, or the same tree as XML.

Clients ask for JSON with `?format=json` (or an `Accept: application/json`); XML is the default.
Version 1 says success with statuscode 100, version 2 with 200. Unlike Nextcloud, whose v1
answers most errors with HTTP 200, the HTTP status is always the precise one here (clients look
at it first), and `meta.statuscode` repeats it (997 for "not logged in" on v1, as Nextcloud says).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response

from sfs.domain.errors import InvalidInput

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=UTF-8"
VERSIONS = (1, 2)
Data = Mapping[str, object] | Sequence[object]


def wants_json(request: Request) -> bool:
    """InvalidInput for a `format` other than json or xml."""
    chosen = request.query_params.get("format")
    if chosen is not None:
        if chosen not in ("json", "xml"):
            raise InvalidInput("format must be json or xml.", field="format")
        return chosen == "json"
    return "application/json" in request.headers.get("accept", "")


def ok(version: int, data: Data, *, as_json: bool) -> Response:
    return _answer(version, 200, "OK", data, as_json=as_json)


def error(
    version: int,
    status: int,
    message: str,
    *,
    as_json: bool,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return _answer(version, status, message, [], as_json=as_json, headers=headers)


def _answer(
    version: int,
    status: int,
    message: str,
    data: Data,
    *,
    as_json: bool,
    headers: Mapping[str, str] | None = None,
) -> Response:
    meta: dict[str, object] = {
        "status": "ok" if status < 400 else "failure",
        "statuscode": _statuscode(version, status),
        "message": message,
        "totalitems": "",
        "itemsperpage": "",
    }
    document = {"ocs": {"meta": meta, "data": data}}
    if as_json:
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        return Response(body, status_code=status, media_type=JSON_TYPE, headers=headers)
    body = ('<?xml version="1.0"?>\n' + _xml("ocs", document["ocs"])).encode()
    return Response(body, status_code=status, media_type=XML_TYPE, headers=headers)


def _statuscode(version: int, status: int) -> int:
    if status < 400:
        return 100 if version == 1 else 200
    if status == 401 and version == 1:
        return 997
    return status


def _xml(name: str, value: object) -> str:
    """Nextcloud's XML form: maps become elements, list items `<element>`, booleans 1 or empty."""
    if isinstance(value, Mapping):
        inner = "".join(_xml(str(key), item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        inner = "".join(_xml("element", item) for item in value)
    elif isinstance(value, bool):
        inner = "1" if value else ""
    elif value is None:
        inner = ""
    else:
        inner = escape(str(value))
    return f"<{name}>{inner}</{name}>"
