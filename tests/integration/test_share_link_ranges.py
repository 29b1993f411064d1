"""Byte ranges on public link downloads, over HTTP: one range → 206 with Content-Range (a
linked file and a file below a folder link), past the end → 416, several or malformed → the
whole file, If-Range of an older version → the whole file; and a download limit counts only
requests that start at byte 0, so a download fetched in pieces counts once."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.domain.actor import Actor
from tests.integration.test_share_links_http import link, mkdir, owner, put

__all__ = ["owner"]  # the fixture this module uses

# Several chunks long, no two equal bytes in a row: a range cut in the wrong place shows.
DATA = bytes(range(256)) * 400


@pytest.mark.parametrize("below_a_folder", [False, True], ids=["file-link", "folder-link"])
@pytest.mark.parametrize(
    ("header", "status", "part", "content_range"),
    [
        ("bytes=0-9", 206, DATA[:10], f"bytes 0-9/{len(DATA)}"),
        ("bytes=50000-", 206, DATA[50000:], f"bytes 50000-{len(DATA) - 1}/{len(DATA)}"),
        ("bytes=-100", 206, DATA[-100:], f"bytes {len(DATA) - 100}-{len(DATA) - 1}/{len(DATA)}"),
        ("bytes=102395-999999", 206, DATA[102395:], f"bytes 102395-102399/{len(DATA)}"),
        ("bytes=0-1,5-6", 200, DATA, None),  # several ranges: the whole file
        ("bytes=abc", 200, DATA, None),
        ("items=0-9", 200, DATA, None),
    ],
)
def test_one_range_is_partial_content_and_others_the_whole_file(
    client: TestClient,
    services: Services,
    owner: Actor,
    below_a_folder: bool,
    header: str,
    status: int,
    part: bytes,
    content_range: str | None,
) -> None:
    if below_a_folder:
        mkdir(services, owner, "/box")
        put(services, owner, "/box/data.bin", DATA)
        url = link(services, owner, "/box").path + "/download/data.bin"
    else:
        put(services, owner, "/data.bin", DATA)
        url = link(services, owner, "/data.bin").path + "/download"
    answer = client.get(url, headers={"Range": header})
    assert answer.status_code == status
    assert answer.content == part
    assert answer.headers.get("content-range") == content_range
    assert answer.headers["content-length"] == str(len(part))
    assert answer.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize("header", ["bytes=102400-", "bytes=200000-200010", "bytes=-0"])
def test_a_range_past_the_end_is_416_and_counts_nothing(
    client: TestClient, services: Services, owner: Actor, header: str
) -> None:
    put(services, owner, "/data.bin", DATA)
    created = link(services, owner, "/data.bin", max_downloads=1)
    answer = client.get(created.path + "/download", headers={"Range": header})
    assert answer.status_code == 416
    assert answer.headers["content-range"] == f"bytes */{len(DATA)}"
    assert services.share_links.mine(owner)[0].download_count == 0


def test_a_download_in_pieces_counts_once(
    client: TestClient, services: Services, owner: Actor
) -> None:
    put(services, owner, "/data.bin", DATA)
    created = link(services, owner, "/data.bin", max_downloads=2)
    url = created.path + "/download"
    first = client.get(url, headers={"Range": "bytes=0-49999"})
    rest = client.get(url, headers={"Range": "bytes=50000-"})
    assert first.content + rest.content == DATA
    assert services.share_links.mine(owner)[0].download_count == 1
    assert client.get(url).content == DATA  # the second (last) download, whole
    assert services.share_links.mine(owner)[0].state == "exhausted"
    # Used up: even the rest of a download is refused, so the limit cannot be walked around.
    assert client.get(url, headers={"Range": "bytes=50000-"}).status_code == 410


def test_if_range_of_another_version_gets_the_whole_file(
    client: TestClient, services: Services, owner: Actor
) -> None:
    put(services, owner, "/data.bin", DATA)
    url = link(services, owner, "/data.bin").path + "/download"
    etag = client.get(url, headers={"Range": "bytes=0-0"}).headers["etag"]
    same = client.get(url, headers={"Range": "bytes=1-2", "If-Range": etag})
    assert (same.status_code, same.content) == (206, DATA[1:3])
    older = client.get(url, headers={"Range": "bytes=1-2", "If-Range": '"something-else"'})
    assert (older.status_code, older.content) == (200, DATA)
