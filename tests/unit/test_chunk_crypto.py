"""Organisation keys and chunk encryption: tenant separation, wrapping, tamper detection."""

from __future__ import annotations

import uuid

import pytest

from sfs.crypto.chunk_aead import (
    SEAL_OVERHEAD,
    ChunkOpener,
    ChunkSealer,
    open_chunk,
    seal_chunk,
)
from sfs.crypto.keys import KeyUnwrapError, OrganisationKeys, rewrap
from sfs.domain.errors import CorruptChunk
from sfs.ports import SystemRandomness
from sfs.protocol.chunk_ids import chunk_id

MASTER = bytes(range(32))
NEW_MASTER = bytes(range(32, 64))
ORG = uuid.UUID("00000000-0000-4000-8000-000000000001")
OTHER_ORG = uuid.UUID("00000000-0000-4000-8000-000000000002")


def new_keys() -> OrganisationKeys:
    return OrganisationKeys.generate(SystemRandomness())


def test_the_same_content_under_two_organisations_gets_different_ids_and_ciphertexts() -> None:
    first, second = new_keys(), new_keys()
    content = b"quarterly figures " * 100
    first_id, second_id = (
        chunk_id(first.chunk_id_key, content),
        chunk_id(second.chunk_id_key, content),
    )
    assert first_id != second_id
    first_sealed = seal_chunk(first, first_id, content)
    assert first_sealed != seal_chunk(second, second_id, content)
    assert len(first_sealed) == len(content) + SEAL_OVERHEAD
    assert content not in first_sealed
    with pytest.raises(CorruptChunk):
        open_chunk(second, first_id, first_sealed)


def test_a_sealed_chunk_opens_to_its_plaintext() -> None:
    keys = new_keys()
    for content in (b"", b"x", b"hello world" * 1000):
        cid = chunk_id(keys.chunk_id_key, content)
        assert open_chunk(keys, cid, seal_chunk(keys, cid, content)) == content


def test_a_chunk_sealed_into_a_buffer_opens_like_one_sealed_alone() -> None:
    keys = new_keys()
    sealer = ChunkSealer(keys)
    content = b"hello world" * 1000
    cid = chunk_id(keys.chunk_id_key, content)
    buffer = bytearray(3 + len(content) + SEAL_OVERHEAD + 5)
    sealer.seal_into(cid, content, memoryview(buffer)[3:-5])
    sealed = bytes(buffer[3:-5])
    assert open_chunk(keys, cid, sealed) == content
    assert buffer[:3] == bytes(3) and buffer[-5:] == bytes(5)  # nothing written outside
    assert content not in sealed
    again = bytearray(len(sealed))
    sealer.seal_into(cid, content, memoryview(again))
    assert again != sealed  # a fresh nonce every time
    with pytest.raises(ValueError, match="overhead"):
        sealer.seal_into(cid, content, memoryview(bytearray(len(sealed) - 1)))


def test_every_flipped_byte_of_a_sealed_chunk_is_detected() -> None:
    keys = new_keys()
    content = b"important" * 20
    cid = chunk_id(keys.chunk_id_key, content)
    sealed = seal_chunk(keys, cid, content)
    for position in range(len(sealed)):
        damaged = bytearray(sealed)
        damaged[position] ^= 0x01
        with pytest.raises(CorruptChunk) as caught:
            open_chunk(keys, cid, bytes(damaged))
        assert caught.value.chunk_id == cid
    with pytest.raises(CorruptChunk, match="truncated"):
        open_chunk(keys, cid, sealed[:10])


def test_a_chunk_stored_under_another_id_is_refused() -> None:
    keys = new_keys()
    one, two = b"one" * 50, b"two" * 50
    one_id, two_id = chunk_id(keys.chunk_id_key, one), chunk_id(keys.chunk_id_key, two)
    with pytest.raises(CorruptChunk) as caught:
        open_chunk(keys, two_id, seal_chunk(keys, one_id, one))
    assert caught.value.chunk_id == two_id


def test_content_that_does_not_hash_to_its_id_is_refused_even_with_a_valid_tag() -> None:
    # A sealer that had the data key but lied about the id (e.g. a buggy client path).
    keys = new_keys()
    claimed = chunk_id(keys.chunk_id_key, b"claimed")
    with pytest.raises(CorruptChunk, match="does not match its id"):
        open_chunk(keys, claimed, seal_chunk(keys, claimed, b"something else"))


def test_a_chunk_opened_into_a_buffer_is_checked_as_one_opened_alone() -> None:
    keys = new_keys()
    opener = ChunkOpener(keys)
    content = b"hello world" * 1000
    cid = chunk_id(keys.chunk_id_key, content)
    sealed = seal_chunk(keys, cid, content)
    buffer = bytearray(3 + len(content) + 5)
    opener.open_into(cid, sealed, memoryview(buffer)[3:-5])
    assert buffer[3:-5] == content and opener.open(cid, sealed) == content
    assert buffer[:3] == bytes(3) and buffer[-5:] == bytes(5)  # nothing written outside
    with pytest.raises(ValueError, match="overhead"):
        opener.open_into(cid, sealed, memoryview(bytearray(len(content) + 1)))
    flipped = bytearray(sealed)
    flipped[20] ^= 0x01
    space = memoryview(bytearray(len(content)))
    with pytest.raises(CorruptChunk, match="authentication tag"):
        opener.open_into(cid, bytes(flipped), space)
    with pytest.raises(CorruptChunk, match="truncated"):
        opener.open_into(cid, sealed[:10], space)
    claimed = chunk_id(keys.chunk_id_key, b"claimed")
    lied = seal_chunk(keys, claimed, b"something else")
    with pytest.raises(CorruptChunk, match="does not match its id"):
        opener.open_into(claimed, lied, memoryview(bytearray(len(b"something else"))))
    with pytest.raises(CorruptChunk):  # another organisation's key opens nothing
        ChunkOpener(new_keys()).open_into(cid, sealed, space)


def test_wrapped_keys_unwrap_and_rewrap_under_a_new_master_key() -> None:
    keys = new_keys()
    wrapped = keys.wrap(MASTER, ORG)
    assert wrapped.isascii()
    assert keys.data_key.hex() not in wrapped
    assert OrganisationKeys.unwrap(MASTER, wrapped, ORG) == keys

    rewrapped = rewrap(MASTER, NEW_MASTER, wrapped, ORG)
    assert rewrapped != wrapped
    assert OrganisationKeys.unwrap(NEW_MASTER, rewrapped, ORG) == keys
    with pytest.raises(KeyUnwrapError):
        OrganisationKeys.unwrap(MASTER, rewrapped, ORG)


def test_unwrapping_with_the_wrong_master_key_or_organisation_fails_cleanly() -> None:
    wrapped = new_keys().wrap(MASTER, ORG)
    with pytest.raises(KeyUnwrapError):
        OrganisationKeys.unwrap(NEW_MASTER, wrapped, ORG)
    with pytest.raises(KeyUnwrapError, match=str(OTHER_ORG)):
        OrganisationKeys.unwrap(MASTER, wrapped, OTHER_ORG)
    with pytest.raises(KeyUnwrapError):
        rewrap(MASTER, NEW_MASTER, wrapped, OTHER_ORG)
    with pytest.raises(KeyUnwrapError):
        OrganisationKeys.unwrap(MASTER, wrapped[:-4] + "AAA=", ORG)
    with pytest.raises(KeyUnwrapError, match="unknown format"):
        OrganisationKeys.unwrap(MASTER, "garbage", ORG)


def test_keys_never_show_in_their_repr() -> None:
    keys = new_keys()
    assert keys.data_key.hex() not in repr(keys)
    assert str(keys.data_key) not in repr(keys)


def test_organisations_chunk_with_different_seeds() -> None:
    assert new_keys().chunking_seed != new_keys().chunking_seed
