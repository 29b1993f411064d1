"""What `sfs sync` says to people (`sfs.cli.sync_output`): sentences, and each problem once."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfs.cli.sync_output import UNREACHABLE, ProblemLog, sentence, start_line, summary
from sfs.client.sync.reconcile import conflicted_copy_name
from sfs.client.sync.report import Report


@pytest.mark.parametrize(
    ("event", "said"),
    [
        ({"event": "uploaded", "path": "/a/b.txt", "size": 3_000_000}, "Uploaded a/b.txt (3.0 MB)"),
        ({"event": "downloaded", "path": "/c.bin", "size": 512}, "Downloaded c.bin (512 B)"),
        (
            {"event": "deleted_local", "path": "/empty.txt"},
            "Deleted empty.txt here (it was deleted on the server)",
        ),
        (
            {"event": "deleted_remote", "path": "/old"},
            "Deleted old on the server (it was deleted here)",
        ),
        (
            {"event": "moved", "path": "/a.txt", "to": "/b/a.txt", "on": "here"},
            "Moved a.txt to b/a.txt here (it was moved on the server)",
        ),
        (
            {"event": "moved", "path": "/a.txt", "to": "/b/a.txt", "on": "server"},
            "Moved a.txt to b/a.txt on the server (it was moved here)",
        ),
        (
            {"event": "conflict", "path": "/r.odt", "kept_as": "/r (conflicted copy x).odt"},
            "r.odt was changed here and on the server: the server's version keeps the name, "
            "yours is kept as r (conflicted copy x).odt",
        ),
        (
            {"event": "uploaded", "path": "/evil\x1b[2J\u202etxt.exe", "size": 1},
            "Uploaded evil\\x1b[2J\\u202etxt.exe (1 B)",
        ),
    ],
)
def test_every_change_is_a_plain_sentence_with_its_names_escaped(
    event: dict[str, object], said: str
) -> None:
    assert sentence(event) == said


def test_failures_and_progress_are_not_sentences_of_their_own() -> None:
    assert sentence({"event": "failed", "path": "/x", "reason": "Permission denied"}) is None
    assert sentence({"event": "progress", "files_done": 1}) is None


def test_the_start_line_names_the_folder_from_home_the_server_and_the_space(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "Documents").mkdir()
    url = "https://files.example.com"
    assert start_line(tmp_path / "Documents", url, "My Files", once=False) == (
        "Watching ~/Documents ↔ https://files.example.com (My Files)"
    )
    assert start_line(tmp_path / "Documents", url, "Projects", once=True) == (
        "Syncing ~/Documents ↔ https://files.example.com (Projects)"
    )
    assert start_line(Path("/srv/data"), url, "Q\u202e", once=True).endswith("(Q\\u202e)")


def test_a_summary_counts_what_changed_in_si_units() -> None:
    report = Report(uploaded=2, deleted_local=1, bytes_sent_total=1_500_000)
    assert summary(report) == "Synced: 2 uploaded, 1 deleted (1.5 MB sent)."


def test_each_problem_is_said_when_it_starts_or_changes_and_never_again_while_it_lasts() -> None:
    said: list[str] = []
    log = ProblemLog(said.append)
    stuck = Report(failed=[("/a.txt", "Permission denied")], warnings=[("/l", "a symbolic link")])

    for _ in range(3):
        log.after_pass(stuck)
    assert said == ["sfs: warning: l: a symbolic link", "sfs: not synced: a.txt: Permission denied"]

    said.clear()
    log.after_pass(Report(failed=[("/a.txt", "No space left on device")]))
    log.after_pass(Report())  # it went through
    log.after_pass(Report(failed=[("/a.txt", "Permission denied")]))  # and failed again
    assert said == [
        "sfs: not synced: a.txt: No space left on device",
        "sfs: not synced: a.txt: Permission denied",
    ]


def test_an_outage_is_said_once_and_its_end_once() -> None:
    said: list[str] = []
    log = ProblemLog(said.append)
    for detail in ("Connection refused", "timed out", "Connection refused"):
        log.server_away(f"cannot reach the server at https://x: {detail}", kind=UNREACHABLE)
    log.after_pass(Report())
    log.after_pass(Report())
    assert said == [
        "sfs: cannot reach the server at https://x: Connection refused; retrying until it is back…",
        "sfs: the server is back; syncing again.",
    ]


def test_a_conflict_copy_carries_the_device_name_as_a_file_name_may_hold_it() -> None:
    stamp = "2026-11-25 093000"
    assert conflicted_copy_name("plan.txt", stamp=stamp, device="laptop-B") == (
        "plan (conflicted copy 2026-11-25 093000 from laptop-B).txt"
    )
    assert conflicted_copy_name("plan.txt", stamp=stamp, device="Bob's PC/2:\u202e.") == (
        "plan (conflicted copy 2026-11-25 093000 from Bob's PC-2--).txt"
    )


def test_a_folder_that_cannot_be_read_is_said_once_too() -> None:
    said: list[str] = []
    log = ProblemLog(said.append)
    for _ in range(2):
        log.server_away("cannot read /home/u/Docs: Permission denied")
    log.after_pass(Report())
    assert said == [
        "sfs: cannot read /home/u/Docs: Permission denied; retrying…",
        "sfs: syncing again.",
    ]
