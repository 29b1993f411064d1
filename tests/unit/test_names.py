"""The one name rule (`sfs.protocol.paths`), the client's proof that a server path stays inside its
folder (`sfs.client.local_paths`), and names printed safely (`sfs.client.printable`)."""

from __future__ import annotations

import ntpath
import posixpath
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sfs.client.local_paths import UnsafePath, checked_relative, local_path
from sfs.client.printable import printable
from sfs.protocol.paths import BadName, clean_name, split_path


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("CON", "'CON' is a device name on Windows"),
        ("con.txt", "'CON' is a device name on Windows"),
        ("Nul .tar.gz", "'NUL' is a device name on Windows"),
        ("COM1", "'COM1' is a device name"),
        ("lpt\u00b9.log", "device name"),
        ("a<b>c:d|e?f*.txt", "must not contain '<': Windows reserves the characters"),
        ('say "hi"', "must not contain '\"'"),
        ("report.", "must not end with a space or a dot"),
        ("report ", "must not end with a space or a dot"),
        ("..\\..\\win.txt", "must not contain '\\\\'"),
        ("C:\\Windows\\evil.dll", "must not contain ':'"),
        ("\\\\host\\share", "must not contain '\\\\'"),
        ("bell\x07", "control characters"),
        ("next\x85line", "control characters"),  # C1
        ("csi\x9b31m", "control characters"),
        ("gpj\u202eexe.txt", "text direction controls (U+202E)"),
        ("isolate\u2066d", "text direction controls (U+2066)"),
        ("in\u200bvoice.pdf", "invisible characters (U+200B)"),
        ("\ufeffbom", "invisible characters (U+FEFF)"),
        ("soft\u00adhyphen", "invisible characters (U+00AD)"),
        ("invoice\u200d.pdf", "invisible characters (U+200D)"),  # a joiner in Latin text
        ("half\ud800", "valid Unicode"),
        ("..", "'..' is not allowed"),
        ("a/b", "must not contain '/'"),
    ],
)
def test_names_no_platform_can_hold_are_refused_with_the_reason(name: str, reason: str) -> None:
    with pytest.raises(BadName) as refused:
        clean_name(name)
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    "name",
    [
        "Report final.odt",
        "Café menu.txt",
        ".hidden",
        "CONSOLE.txt",  # not a device: only the exact names are
        "my con.txt",
        "COM10",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467 family.jpg",  # an emoji sequence
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.txt",  # Persian needs its ZWNJ
        "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f.png",  # a flag
        "\u05e9\u05dc\u05d5\u05dd.txt",  # right-to-left letters need no control
    ],
)
def test_names_that_live_everywhere_are_kept(name: str) -> None:
    assert clean_name(name) == name


def test_a_lone_surrogate_in_a_path_is_refused_not_crashed_on() -> None:
    with pytest.raises(BadName, match="valid Unicode"):
        split_path("/folder/bad\udc80name")


@given(st.text(max_size=40))
@example("CON")
@example("..")
@example("C:")
@example("a\\b")
def test_a_name_the_rule_keeps_is_one_plain_name_on_windows_and_posix(raw: str) -> None:
    try:
        name = clean_name(raw)
    except BadName:
        return
    for flavour in (PureWindowsPath, PurePosixPath):
        pure = flavour(name)
        assert pure.parts == (name,) and not pure.drive and not pure.root, flavour
    assert name not in (".", "..") and name[-1] not in " ."


HOSTILE_PATHS = [
    "/..",
    "/../escape.txt",
    "/a/../../escape.txt",
    "/..\\..\\win.txt",
    "/C:\\Windows\\evil.dll",
    "/C:evil.dll",
    "/\\\\host\\share\\x",
    "//etc/passwd",
    "/a//b",
    "/CON",
    "/docs/NUL.txt",
    "/trailing./x",
    "/gpj\u202eexe.txt",
    "/cafe\u0301",  # not NFC: another name than the server's rule makes
    "/",
]


@pytest.mark.parametrize("remote", HOSTILE_PATHS)
def test_a_hostile_server_path_is_refused_before_anything_is_written(remote: str) -> None:
    with pytest.raises(UnsafePath) as refused:
        local_path(Path("/synced"), remote)
    assert str(refused.value)  # with the reason


@given(st.lists(st.text(max_size=12), min_size=1, max_size=4))
@example(["..", "x"])
@example(["C:", "x"])
@example(["a", "..\\..", "b"])
def test_whatever_the_server_sends_a_written_path_stays_inside_the_folder(
    parts: list[str],
) -> None:
    remote = "/" + "/".join(parts)
    try:
        relative = checked_relative(remote)
    except UnsafePath:
        return
    for root, join, normalise, relpath in [
        ("C:\\Sync", ntpath.join, ntpath.normpath, ntpath.relpath),
        ("/home/a/Sync", posixpath.join, posixpath.normpath, posixpath.relpath),
    ]:
        inside = normalise(join(root, relative))
        assert not relpath(inside, root).startswith(".."), (root, remote)
        assert inside != normalise(root)
    assert local_path(Path("/home/a/Sync"), remote) == Path("/home/a/Sync") / relative


def test_names_are_printed_with_control_direction_and_invisible_characters_escaped() -> None:
    assert printable("plain name.txt") == "plain name.txt"
    assert printable("Café \u05e9\u05dc\u05d5\u05dd") == "Café \u05e9\u05dc\u05d5\u05dd"
    assert printable("title\x1b]0;owned\x07.txt") == "title\\x1b]0;owned\\x07.txt"
    assert printable("gpj\u202eexe.txt") == "gpj\\u202eexe.txt"
    assert printable("in\u200bvoice") == "in\\u200bvoice"
    assert printable("line\nbreak\x85") == "line\\nbreak\\x85"
