"""`sfs.client.api.ApiClient` over `httpx.MockTransport`: requests sent, answers and errors read."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from sfs.client.api import MISSING_BATCH, ApiClient, ApiError

TOKEN = "tok"
NODE = {
    "id": "6f1c1f4e-64c4-4d38-9d8e-4f0c2a8f0b11",
    "name": "report.odt",
    "path": "/Docs/report.odt",
    "kind": "file",
    "size": 12,
    "modified_at": "2026-11-25T09:00:00Z",
    "version": 3,
    "etag": "abc",
    "deleted_at": None,
}


def client_answering(handler: httpx.MockTransport, token: str | None = TOKEN) -> ApiClient:
    return ApiClient("https://files.example.com/", token=token, transport=handler)


def test_calls_carry_the_token_and_address_my_files() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=NODE)

    with client_answering(httpx.MockTransport(handler)) as api:
        node = api.stat("/Docs/report.odt")

    assert node.path == "/Docs/report.odt"
    assert node.version == 3
    assert node.modified_at.year == 2026
    request = seen[0]
    assert request.url.path == "/api/v1/spaces/me/node"
    assert request.url.params["path"] == "/Docs/report.odt"
    assert request.headers["authorization"] == "Bearer tok"


def test_a_server_error_keeps_its_status_code_and_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"code": "not_found", "message": "No such file: /x."})

    with client_answering(httpx.MockTransport(handler)) as api, pytest.raises(ApiError) as caught:
        api.stat("/x")
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        404,
        "not_found",
        "No such file: /x.",
    )


def test_stat_or_none_turns_only_404_into_none() -> None:
    answers = iter(
        [
            httpx.Response(404, json={"code": "not_found", "message": "No such file."}),
            httpx.Response(507, json={"code": "quota_exceeded", "message": "Quota exceeded."}),
        ]
    )
    with client_answering(httpx.MockTransport(lambda _request: next(answers))) as api:
        assert api.stat_or_none("/x") is None
        with pytest.raises(ApiError, match="Quota exceeded"):
            api.stat_or_none("/x")


def test_a_non_json_failure_is_described_plainly() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad gateway</html>")

    with client_answering(httpx.MockTransport(handler)) as api, pytest.raises(ApiError) as caught:
        api.list_folder("/")
    assert caught.value.status == 502
    assert caught.value.message == "the server answered 502 Bad Gateway"


def test_an_unreachable_server_is_an_api_error_without_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    with client_answering(httpx.MockTransport(handler)) as api, pytest.raises(ApiError) as caught:
        api.list_folder("/")
    assert caught.value.unreachable
    assert caught.value.message == (
        "cannot reach the server at https://files.example.com: Connection refused"
    )


def test_login_gives_a_token_or_a_challenge() -> None:
    answers = iter(
        [
            httpx.Response(
                200, json={"token": None, "second_factor": {"challenge": "c1", "method": "totp"}}
            ),
            httpx.Response(200, json={"token": "secret", "device_id": NODE["id"]}),
        ]
    )
    bodies: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return next(answers)

    with client_answering(httpx.MockTransport(handler), token=None) as api:
        challenged = api.login(email="a@example.com", password="pw", device_name="laptop")
        assert (challenged.token, challenged.challenge, challenged.method) == (None, "c1", "totp")
        answered = api.answer_second_factor(challenge="c1", code="123456", device_name="laptop")
        assert answered.token == "secret"
    assert bodies[1] == {"challenge": "c1", "code": "123456", "device_name": "laptop"}


def test_missing_chunks_are_asked_in_batches_the_server_accepts() -> None:
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ids = json.loads(request.content)["chunk_ids"]
        sizes.append(len(ids))
        return httpx.Response(200, json={"missing": ids[:1]})

    ids = [f"{n:064x}" for n in range(MISSING_BATCH + 5)]
    with client_answering(httpx.MockTransport(handler)) as api:
        missing = api.missing_chunks([*ids, ids[0]])
    assert sizes == [MISSING_BATCH, 5]
    assert missing == {ids[0], ids[MISSING_BATCH]}


def test_chunking_parameters_are_decoded() -> None:
    key = bytes(range(32))
    answer = {
        "min_size": 16384,
        "avg_size": 16384,
        "max_size": 98304,
        "chunk_id_key": base64.b64encode(key).decode(),
        "seed": 42,
    }
    with client_answering(httpx.MockTransport(lambda _r: httpx.Response(200, json=answer))) as api:
        chunking = api.chunking()
    assert chunking.chunk_id_key == key
    assert chunking.seed == 42
    # A server from before tiers: its one set of sizes cuts every file.
    assert chunking.sizes.for_size(None).max_size == 98304
    assert chunking.sizes.for_size(2**40).max_size == 98304


def test_a_download_error_arrives_before_any_byte() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"code": "damaged_file", "message": "Damaged: /x."})

    with (
        client_answering(httpx.MockTransport(handler)) as api,
        pytest.raises(ApiError, match="Damaged"),
        api.open_content("/x"),
    ):
        pytest.fail("no download expected")


def test_chunking_tiers_are_decoded_and_pick_by_file_size() -> None:
    answer = {
        "min_size": 16384,
        "avg_size": 16384,
        "max_size": 98304,
        "tiers": [
            {"from_size": 0, "min_size": 16384, "avg_size": 16384, "max_size": 98304},
            {"from_size": 1000, "min_size": 65536, "avg_size": 65536, "max_size": 393216},
        ],
        "chunk_id_key": base64.b64encode(bytes(32)).decode(),
        "seed": 1,
    }
    with client_answering(httpx.MockTransport(lambda _r: httpx.Response(200, json=answer))) as api:
        sizes = api.chunking().sizes
    assert [sizes.for_size(n).max_size for n in (0, 999, 1000, 2**40)] == [
        98304,
        98304,
        393216,
        393216,
    ]
    assert sizes.for_size(None).max_size == 98304 and sizes.max_size == 393216


@pytest.mark.parametrize(
    "tiers",
    [
        [{"from_size": 5, "min_size": 64, "avg_size": 64, "max_size": 64}],  # not from 0
        [{"from_size": 0, "min_size": 64, "avg_size": 32, "max_size": 64}],  # avg below min
        [{"from_size": 0, "min_size": 64}],
        "16/16/96",
    ],
)
def test_a_malformed_chunking_answer_is_a_clear_error(tiers: object) -> None:
    answer = {
        "min_size": 64,
        "avg_size": 64,
        "max_size": 64,
        "tiers": tiers,
        "chunk_id_key": base64.b64encode(bytes(32)).decode(),
        "seed": 1,
    }
    transport = httpx.MockTransport(lambda _r: httpx.Response(200, json=answer))
    with client_answering(transport) as api, pytest.raises(ApiError) as refused:
        api.chunking()
    assert refused.value.code == "bad_response" and "chunking answer is malformed" in str(
        refused.value
    )
