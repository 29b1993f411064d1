"""The manifest delta's pure parts: diff, binary form, and rebuilding the list from a base."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfs.protocol.manifest_delta import (
    Copy,
    Entry,
    ManifestDelta,
    apply,
    content_digest,
    decode,
    diff,
    encode,
)

WHEN = datetime(2026, 11, 26, 19, 30, 15, 123456, tzinfo=UTC)


def entry(name: str) -> Entry:
    return hashlib.sha256(name.encode()).hexdigest(), 1000 + len(name)


def delta_of(base: list[Entry], new: list[Entry], version: int = 2) -> ManifestDelta:
    return ManifestDelta(
        version=version,
        size=sum(size for _, size in new),
        modified_at=WHEN,
        digest=content_digest([c for c, _ in new]),
        base_count=len(base),
        count=len(new),
        operations=diff([c for c, _ in base], new),
    )


def rebuilt(base: list[Entry], new: list[Entry]) -> list[Entry]:
    return apply(decode(encode(delta_of(base, new))), base)


BASE = [entry(f"c{n}") for n in range(10)]


def test_an_insert_is_two_runs_around_the_new_chunks() -> None:
    new = [*BASE[:5], entry("x"), entry("y"), *BASE[5:]]

    assert diff([c for c, _ in BASE], new) == [Copy(0, 5), entry("x"), entry("y"), Copy(5, 5)]
    assert rebuilt(BASE, new) == new


@pytest.mark.parametrize(
    "new",
    [
        BASE[:3] + BASE[6:],  # deleted
        [*BASE, entry("tail")],  # appended
        [entry(f"n{n}") for n in range(4)],  # replaced
        [],  # emptied
        BASE[5:] + BASE[:5],  # halves swapped
        BASE[:2] + BASE[:2] + BASE[2:],  # a repeated run
    ],
)
def test_every_edit_is_rebuilt_from_the_base(new: list[Entry]) -> None:
    assert rebuilt(BASE, new) == new


def test_the_version_and_its_time_come_through() -> None:
    delta = decode(encode(delta_of([], [entry("a")], version=7)))

    assert (delta.version, delta.modified_at, delta.count, delta.base_count) == (7, WHEN, 1, 0)


def test_an_insert_into_a_big_list_costs_the_new_entries_not_the_list() -> None:
    base = [entry(f"c{n}") for n in range(40_000)]
    new = base[:20_000] + [entry(f"new{n}") for n in range(44)] + base[20_000:]

    encoded = encode(delta_of(base, new))

    assert len(encoded) < 45 * 40 + 100  # ~36 bytes per new chunk and a few for the runs
    assert apply(decode(encoded), base) == new


@given(
    st.lists(st.integers(0, 12), max_size=30),
    st.lists(st.integers(0, 20), max_size=30),
)
def test_any_list_is_rebuilt_from_any_base(base_names: list[int], new_names: list[int]) -> None:
    base = [entry(f"c{n}") for n in base_names]
    new = [entry(f"c{n}") for n in new_names]

    assert rebuilt(base, new) == new


def test_a_base_other_than_the_writers_is_found_out() -> None:
    new = [*BASE[:5], entry("x"), *BASE[5:]]
    delta = decode(encode(delta_of(BASE, new)))
    other = [*BASE[:4], entry("zz"), *BASE[5:]]  # one chunk differs, sizes alike

    with pytest.raises(ValueError, match="digest"):
        apply(delta, other)
    with pytest.raises(ValueError, match="against 10 chunks, not 9"):
        apply(delta, BASE[:9])


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:3],  # not even the magic
        lambda data: b"SFMD\x02" + data[5:],  # another format
        lambda data: data[:-5],  # cut short in a new entry
        lambda data: data + b"\x07",  # an unknown operation
        lambda data: data + b"\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",  # an endless varint
    ],
)
def test_a_damaged_delta_is_refused(damage: object) -> None:
    data = encode(delta_of(BASE, [*BASE, entry("tail")]))
    assert callable(damage)

    with pytest.raises(ValueError):
        apply(decode(damage(data)), BASE)


def test_a_run_past_the_base_is_refused() -> None:
    delta = delta_of(BASE, BASE)
    stretched = ManifestDelta(**{**vars(delta), "operations": [Copy(5, 6)]})

    with pytest.raises(ValueError, match="past its base"):
        apply(stretched, BASE)
