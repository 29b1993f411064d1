"""The HTTP/1.1 parser `sfs serve` answers with: uvicorn's httptools protocol (the fast one),
refusing a request target that carries a fragment.

RFC 9112 allows no `#` in a request target, and httptools drops one silently: `DELETE
/dav/folder/#x` would reach the app as `DELETE /dav/folder/` and delete the folder (litmus's
`delete_fragment` checks exactly this). Such a request gets 400 before it reaches the app.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class FragmentRefusingProtocol(HttpToolsProtocol):
    def on_url(self, url: bytes) -> None:
        # A parser callback's exception ends the parse: uvicorn answers 400 and closes.
        if b"#" in url:
            raise ValueError("A request target carries no fragment.")
        super().on_url(url)
