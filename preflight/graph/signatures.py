"""What the caches know of a path without reading it: its size and mtime, a folder's names.

The parse cache keys a file's scan on `file_signature`; the walk cache also records the
folders whose listings answered a module name, with `folder_signature`: adding, removing or
renaming an entry changes a folder's mtime (CPython's own FileFinder relies on that), and the
names are kept to tell such a change from the creation of a `__pycache__` (by CPython
writing bytecode, or by preflight's own caches), which no import can see.
"""

from __future__ import annotations

import hashlib
import os

#: (size, mtime_ns), or None when the path cannot be stat'ed.
FileSignature = tuple[int, int] | None
#: (mtime_ns, digest of the entry names but `__pycache__`; of the size for a file), or None.
FolderSignature = tuple[int, bytes] | None

_IGNORED_NAMES = frozenset({"__pycache__"})


def file_signature(path: str | os.PathLike[str]) -> FileSignature:
    """(size, mtime_ns) of `path` (symlinks followed), None when it is missing or unreadable."""
    try:
        stat = os.stat(path)  # noqa: PTH116 - strings in, and cheaper than Path.stat
    except (OSError, ValueError):
        return None
    return stat.st_size, stat.st_mtime_ns


def folder_signature(path: str) -> FolderSignature:
    """Mtime and the digest of the names in folder `path`; None when it is missing.

    A path entry that is a file (a zip on `sys.path`) is signed by its size instead.
    """
    try:
        stat = os.stat(path)  # noqa: PTH116
        names = os.listdir(path)  # noqa: PTH208 - names only, as FileFinder lists them
    except NotADirectoryError:
        return stat.st_mtime_ns, str(stat.st_size).encode()
    except (OSError, ValueError):
        return None
    return stat.st_mtime_ns, _digest(names)


def folder_unchanged(path: str, recorded: FolderSignature, *, trust_mtime: bool) -> bool:
    """Whether folder `path` still lists the names it had when `recorded`.

    An unchanged mtime answers, when `trust_mtime`; a moved one sends us to the names.
    """
    if recorded is None:
        return file_signature(path) is None  # still missing: no need to list anything
    try:
        mtime = os.stat(path).st_mtime_ns  # noqa: PTH116
    except (OSError, ValueError):
        return False
    if trust_mtime and mtime == recorded[0]:
        return True
    now = folder_signature(path)
    return now is not None and now[1] == recorded[1]


def _digest(names: list[str]) -> bytes:
    listed = "\0".join(sorted(name for name in names if name not in _IGNORED_NAMES))
    return hashlib.blake2b(listed.encode(errors="surrogateescape"), digest_size=16).digest()
