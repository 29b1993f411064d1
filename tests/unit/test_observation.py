"""Who may name a request id, and how requests are labelled in the metrics."""

from __future__ import annotations

from starlette.routing import Route

from sfs.observability.request_ids import begin_request, current_request_id, end_request
from sfs.web.observation import TrustedProxies, route_label


def test_trusted_proxies_are_addresses_and_networks() -> None:
    trusted = TrustedProxies("10.0.0.0/8, 192.0.2.7")
    assert "10.20.30.40" in trusted and "192.0.2.7" in trusted
    assert "192.0.2.8" not in trusted and None not in trusted and "testclient" not in trusted
    assert "203.0.113.1" in TrustedProxies("*")
    assert "127.0.0.1" not in TrustedProxies("")


def test_an_incoming_id_is_kept_only_when_it_looks_sane() -> None:
    for offered, kept in [
        ("lb-0123456789abcdef", True),
        ("short", False),
        ("x" * 129, False),
        ("has space-0123456789", False),
        ("new\nline-0123456789", False),
        (None, False),
    ]:
        request_id, token = begin_request(offered)
        assert current_request_id() == request_id
        end_request(token)
        assert (request_id == offered) is kept
    assert current_request_id() is None


def test_routes_are_labelled_by_template_and_webdav_as_one() -> None:
    async def endpoint() -> None: ...

    route = Route("/spaces/{space}/changes", endpoint)
    mounted = {"path": "/api/v1/spaces/me/changes", "root_path": "/api/v1", "route": route}
    assert route_label(mounted) == "/api/v1/spaces/{space}/changes"
    assert route_label({"path": "/remote.php/dav/files/u/a.txt"}) == "webdav"
    assert route_label({"path": "/no/such/page"}) == "unmatched"
