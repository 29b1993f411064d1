"""A stateful property test: random edits on two clients with syncs in between always converge,
with no failed path and the last edits of every client kept."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from sfs.client.sync.engine import SyncEngine
from sfs.client.sync.remote import SyncApi
from tests.e2e.test_quick_start import RunningServer
from tests.e2e.test_sync_two_clients import tree

NAMES = ["a.txt", "b.txt", "Docs/c.txt", "Docs/d.txt"]
contents = st.binary(min_size=0, max_size=3000)


def test_random_edits_on_two_clients_converge(server: RunningServer, token: str) -> None:
    class TwoClients(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            self.work = Path(tempfile.mkdtemp(prefix="sfs-converge-"))
            self.engines: list[SyncEngine] = []
            for name in ("a", "b"):
                folder = self.work / name
                folder.mkdir()
                api = SyncApi(server.base_url, token=token)
                self.engines.append(SyncEngine(folder, api, device=name))
            # Each example starts from an empty space: clear what earlier examples left.
            first = self.engines[0]
            first.sync_once()
            for child in first.root.iterdir():
                if child.name != ".sfs":
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
            first.sync_once()
            self.engines[1].sync_once()
            self.last_written: dict[int, dict[str, bytes]] = {0: {}, 1: {}}

        def _knowingly_replaced(self, side: int, name: str) -> None:
            """What the user sees at `name` and now replaces or removes may go: forget it."""
            path = self.engines[side].root / name
            if not path.is_file():
                return
            seen = path.read_bytes()
            # By content: after a folder rename on one side the same file has two names.
            for written in self.last_written.values():
                for known in [n for n, data in written.items() if data == seen]:
                    del written[known]

        @rule(side=st.integers(0, 1), name=st.sampled_from(NAMES), data=contents)
        def write(self, side: int, name: str, data: bytes) -> None:
            self._knowingly_replaced(side, name)
            path = self.engines[side].root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            self.last_written[side][name] = data

        @rule(side=st.integers(0, 1), name=st.sampled_from(NAMES))
        def delete(self, side: int, name: str) -> None:
            self._knowingly_replaced(side, name)
            path = self.engines[side].root / name
            if path.is_file():
                path.unlink()

        @rule(side=st.integers(0, 1), source=st.sampled_from(NAMES), to=st.sampled_from(NAMES))
        def rename(self, side: int, source: str, to: str) -> None:
            root = self.engines[side].root
            if source != to and (root / source).is_file() and not (root / to).exists():
                seen = (root / source).read_bytes()
                (root / to).parent.mkdir(parents=True, exist_ok=True)
                os.rename(root / source, root / to)
                for written in self.last_written.values():
                    if written.get(source) == seen:
                        written[to] = written.pop(source)

        @rule(side=st.integers(0, 1))
        def rename_folder(self, side: int) -> None:
            """Docs/ ↔ Papers/: a whole folder renamed (sent to the server as one move)."""
            root = self.engines[side].root
            for source, to in (("Docs", "Papers"), ("Papers", "Docs")):
                if (root / source).is_dir() and not (root / to).exists():
                    os.rename(root / source, root / to)
                    for written in self.last_written.values():
                        for name in [n for n in written if n.startswith(source + "/")]:
                            written[to + name[len(source) :]] = written.pop(name)
                    return

        @rule(side=st.integers(0, 1))
        def sync(self, side: int) -> None:
            report = self.engines[side].sync_once()
            assert not report.failed, report.failed

        def teardown(self) -> None:
            if not hasattr(self, "engines"):
                return
            try:
                a, b = self.engines
                for _ in range(4):
                    reports = [a.sync_once(), b.sync_once()]
                    assert not any(r.failed for r in reports)
                    if not any(r.changed_anything for r in reports):
                        break
                final = tree(a.root)
                assert final == tree(b.root), "the two folders differ after syncing"
                kept = set(v for v in final.values() if v is not None)
                # What a client wrote last (and did not delete) is somewhere: under its name,
                # as a conflicted copy, or under the name another client moved it to.
                for side in (0, 1):
                    for name, data in self.last_written[side].items():
                        assert data in kept or data == b"", f"{name} written on {side} was lost"
            finally:
                for engine in self.engines:
                    engine.close()
                    engine.api.close()
                shutil.rmtree(self.work, ignore_errors=True)

    run_state_machine_as_test(
        TwoClients,
        settings=settings(
            max_examples=int(os.environ.get("SFS_TEST_SYNC_EXAMPLES", "8")),
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
