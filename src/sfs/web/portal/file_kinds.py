"""Which icon a file gets on the Files page, from its name's suffix (the content is never read
for this: a name is all a listing has)."""

from __future__ import annotations

_KINDS = {
    "image": ("jpg", "jpeg", "png", "gif", "webp", "bmp", "svg", "tif", "tiff", "heic", "ico"),
    "pdf": ("pdf",),
    "text": ("txt", "md", "rst", "log", "csv", "tsv", "rtf"),
    "document": ("doc", "docx", "odt", "pages"),
    "sheet": ("xls", "xlsx", "ods", "numbers"),
    "slides": ("ppt", "pptx", "odp", "key"),
    "archive": ("zip", "tar", "gz", "tgz", "bz2", "xz", "7z", "rar", "zst"),
    "audio": ("mp3", "wav", "flac", "ogg", "m4a", "aac", "opus"),
    "video": ("mp4", "mkv", "mov", "avi", "webm", "m4v"),
    "code": (
        "py",
        "js",
        "ts",
        "html",
        "css",
        "json",
        "xml",
        "yaml",
        "yml",
        "toml",
        "sh",
        "c",
        "h",
        "cpp",
        "rs",
        "go",
        "java",
        "rb",
        "php",
        "sql",
    ),
}
_BY_SUFFIX = {suffix: kind for kind, suffixes in _KINDS.items() for suffix in suffixes}
KINDS = ("folder", "file", *_KINDS)


def file_kind(name: str, node_kind: str = "file") -> str:
    """'folder', one of the kinds above, or 'file' for anything else."""
    if node_kind == "folder":
        return "folder"
    _, dot, suffix = name.rpartition(".")
    return _BY_SUFFIX.get(suffix.lower(), "file") if dot else "file"
