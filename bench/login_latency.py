"""How long a password login takes, next to one bare argon2id verification with the same parameters.

Run: .venv/bin/python -m bench.login_latency [--rounds 30]
The baseline is measured in the same run, so the ratio shows what the login path adds to the
hash itself (throttle checks, the account lookup, the audit write, the rehash check).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import argon2

from sfs.app import build_services, prepare_first_start
from sfs.config import load_settings
from sfs.domain.actor import ClientInfo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(data_dir=Path(folder))
        services = build_services(settings)
        credentials = prepare_first_start(services)
        email, password = credentials[1].email, credentials[1].password
        client = ClientInfo(address="127.0.0.1", user_agent="bench")

        hasher = argon2.PasswordHasher(
            time_cost=settings.password_hash_time_cost,
            memory_cost=settings.password_hash_memory_kib,
            parallelism=settings.password_hash_parallelism,
        )
        stored = hasher.hash(password)
        baseline = _median_ms(lambda: hasher.verify(stored, password), arguments.rounds)
        login = _median_ms(
            lambda: services.login.authenticate(
                email=email, password=password, client=client, channel="api"
            ),
            arguments.rounds,
        )
        services.database.dispose()

    print(
        f"argon2id t={settings.password_hash_time_cost} "
        f"m={settings.password_hash_memory_kib} KiB p={settings.password_hash_parallelism}"
    )
    print(f"baseline  bare argon2id verify   median {baseline:7.1f} ms")
    print(f"sfs       password login         median {login:7.1f} ms")
    print(f"ratio     login / bare verify           {login / baseline:7.2f}x")


def _median_ms(action: object, rounds: int) -> float:
    assert callable(action)
    action()  # warm up
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


if __name__ == "__main__":
    main()
