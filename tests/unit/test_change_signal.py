"""Waking long polls in one process: by space, everyone at once, and when draining."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from sfs.broadcast.messages import SPACES_PER_MESSAGE, decode, encode
from sfs.config import ConfigError, load_settings
from sfs.services.files.changes import ChangeSignal

SPACE = uuid.UUID(int=7)
OTHER = uuid.UUID(int=8)


async def _waiting(signal: ChangeSignal, space: uuid.UUID) -> asyncio.Task[None]:
    task = asyncio.create_task(signal.wait_async(space, signal.generation(space), 3600))
    while not signal.waiting:
        await asyncio.sleep(0)
    return task


def test_a_notice_wakes_only_the_waiters_of_its_space() -> None:
    async def scenario() -> tuple[bool, bool]:
        signal = ChangeSignal()
        here = await _waiting(signal, SPACE)
        there = asyncio.create_task(signal.wait_async(OTHER, 0, 3600))
        await asyncio.sleep(0)
        signal.deliver({SPACE})
        await asyncio.wait_for(here, 10)
        woken_elsewhere = there.done()
        there.cancel()
        return here.done(), woken_elsewhere

    assert asyncio.run(scenario()) == (True, False)


def test_an_unknown_gap_wakes_every_waiter() -> None:
    async def scenario() -> int:
        signal = ChangeSignal()
        first = await _waiting(signal, SPACE)
        second = asyncio.create_task(signal.wait_async(OTHER, 0, 3600))
        while signal.waiting < 2:
            await asyncio.sleep(0)
        signal.deliver(None)
        await asyncio.wait_for(asyncio.gather(first, second), 10)
        return signal.waiting

    assert asyncio.run(scenario()) == 0


def test_draining_answers_waiters_now_and_refuses_to_wait_again() -> None:
    async def scenario() -> None:
        signal = ChangeSignal()
        waiter = await _waiting(signal, SPACE)
        signal.drain()
        await asyncio.wait_for(waiter, 10)
        await asyncio.wait_for(signal.wait_async(SPACE, signal.generation(SPACE), 3600), 10)

    asyncio.run(scenario())


def test_messages_carry_many_spaces_in_pieces_and_skip_our_own() -> None:
    spaces = {uuid.uuid4() for _ in range(SPACES_PER_MESSAGE + 3)}
    payloads = list(encode("a" * 32, spaces))
    assert len(payloads) == 2 and all(len(p.encode()) < 8000 for p in payloads)
    assert set().union(*(decode(p, "b" * 32) for p in payloads)) == spaces
    assert decode(payloads[0], "a" * 32) == set()
    assert decode("b" * 32 + " not-a-uuid", "a" * 32) == set()


def test_notification_follows_the_database_unless_chosen() -> None:
    assert load_settings(database_url="sqlite:///x.db").change_notification == "process"
    on_postgres = load_settings(database_url="postgresql://db/sfs")
    assert on_postgres.change_notification == "postgresql"
    chosen = load_settings(database_url="sqlite:///x.db", change_notification="redis://r:6379")
    assert chosen.change_notification == "redis://r:6379"


def test_postgresql_notification_needs_a_postgresql_database() -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(database_url="sqlite:///x.db", change_notification="postgresql")
    assert str(refused.value) == (
        "SFS_CHANGE_NOTIFICATION=postgresql needs a PostgreSQL SFS_DATABASE_URL"
    )
    with pytest.raises(ConfigError, match="SFS_CHANGE_NOTIFICATION: must be auto"):
        load_settings(change_notification="kafka://x")
