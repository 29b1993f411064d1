"""What a user sees in a folder that a sync client keeps, read while the client may be running."""

from pathlib import Path

from sfs.client.sync.ignore import STATE_FOLDER, TEMP_PREFIX


def visible_files(folder: Path) -> dict[str, bytes]:
    """Every file with its content, but the client's own state and its half-written downloads.

    A running client renames a `.sfs-part-` file into place or removes it between our listing
    and our read, so such a file and any file that vanishes mid-read are skipped: the caller
    polls again until the folder settles.
    """
    found: dict[str, bytes] = {}
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if STATE_FOLDER in relative.parts or path.name.startswith(TEMP_PREFIX):
            continue
        try:
            if path.is_file():
                found[relative.as_posix()] = path.read_bytes()
        except FileNotFoundError:
            continue
    return found
