"""The ceiling on uploads in progress, per account and per client address."""

from __future__ import annotations

import uuid
from contextlib import ExitStack

import pytest

from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import TooManyUploads
from sfs.domain.roles import Role
from sfs.services.files.upload_slots import RETRY_AFTER_SECONDS, InProcessGauge, UploadSlots
from sfs.web.portal.form_prefix import first_field


def member(n: int) -> Actor:
    return Actor(uuid.UUID(int=n), f"m{n}@example.com", f"Member {n}", Role.USER, uuid.UUID(int=99))


def test_an_account_over_its_ceiling_is_refused_until_one_upload_ends() -> None:
    slots = UploadSlots(InProcessGauge(), per_account=2, per_address=10)
    here = ClientInfo(address="192.0.2.1", user_agent=None)
    with ExitStack() as held:
        held.enter_context(slots.hold(member(1), here))
        second = held.enter_context(ExitStack())
        second.enter_context(slots.hold(member(1), here))
        with pytest.raises(TooManyUploads) as refused, slots.hold(member(1), here):
            pass
        assert refused.value.retry_after_seconds == RETRY_AFTER_SECONDS
        assert "2 uploads are in progress from this account" in refused.value.message
        with slots.hold(member(2), here):  # another account is not held back
            pass
        second.close()
        with slots.hold(member(1), here):  # a slot freed
            pass


def test_an_address_over_its_ceiling_is_refused_whoever_sends() -> None:
    slots = UploadSlots(InProcessGauge(), per_account=5, per_address=2)
    here = ClientInfo(address="192.0.2.1", user_agent=None)
    with slots.hold(member(1), here), slots.hold(member(2), here):
        with pytest.raises(TooManyUploads, match="from this address"), slots.hold(member(3), here):
            pass
        with slots.hold(member(3), ClientInfo(address="192.0.2.2", user_agent=None)):
            pass
    # A refusal keeps no slot it took on the way (the account's, before the address said no).
    with slots.hold(member(3), here), slots.hold(member(3), here):
        pass


def test_the_first_form_field_is_read_from_a_prefix_of_the_body() -> None:
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\ntok3n\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="a"\r\n\r\n'
    )
    assert first_field(body, b"xyz") == (b"csrf_token", b"tok3n")
    assert first_field(body[:40], b"xyz") is None  # not all there yet
    assert first_field(b"garbage" + body, b"xyz") is None
