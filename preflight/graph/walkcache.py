"""The walk cache: the imports check's result, reused while nothing the walk read has changed.

With every scan cached, a walk still judges each import again: about 100 ms for a backend
that boots 400 modules, the bulk of a start-time run after a build-time one. The result is a
function of what the walk read, so the check keeps it with that record: every first-party
file it scanned (size and mtime, taken before reading) and every folder whose listing
answered a name (the roots, the path entries searched, each package's folders: mtime and the
names in it, see `preflight.graph.signatures`), plus the requirements files read to name a
missing module's distribution. A later run with the same key (entry, roots, the walk's
settings, the interpreter's path, this Python and this preflight's graph code) stats those
paths, lists only the folders whose mtime moved, and reuses the result when all agree.

Timestamps have a granularity (a kernel tick; 2 s on FAT): a change in the same tick as the
walk's own read would leave the mtime as recorded, like git's "racy" index entries. So a walk
that read a file changed within `RACY_NS` of its start is not stored (the next one is), and a
folder changed that recently is compared by its names, never by its mtime.

Stored next to the parse cache, `<first root>/__pycache__/preflight-<tag>.walks.pickle`, the
last `KEPT` keys; any failure to read or write it is silent.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from preflight._version import __version__
from preflight.graph.cache import save_pickle
from preflight.graph.signatures import file_signature, folder_unchanged

if TYPE_CHECKING:
    from collections.abc import Mapping

    from preflight.graph.signatures import FileSignature, FolderSignature
    from preflight.report import Finding

#: Bump when a stored entry changes shape: older files are then ignored.
FORMAT = 1
#: Keys kept per file: an app checked under a few configurations keeps each one warm.
KEPT = 8
#: A path changed this close before a walk began may change again unseen (see above).
RACY_NS = 2_000_000_000

_PACKAGE = Path(__file__).resolve().parent.parent
#: The code a walk's result depends on, besides the graph package itself.
_CODE = ("report.py", "codes.py", "distmap.py", "requirements.py", "checks/imports.py")

WalkKey = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class WalkSummary:
    """What the imports check reports of a walk."""

    findings: tuple[Finding, ...]
    modules: int
    edges: int
    functions_followed: int
    files: int
    """First-party files the walk scanned."""


@dataclass(frozen=True, slots=True)
class Dependencies:
    """The paths a walk read, signed when it read them."""

    files: tuple[tuple[str, FileSignature], ...]
    folders: tuple[tuple[str, FolderSignature, bool], ...]
    """Each folder, its signature, and whether its mtime can be trusted (not racy)."""

    @classmethod
    def record(
        cls,
        files: Mapping[str, FileSignature],
        folders: Mapping[str, FolderSignature],
        walk_started_ns: int,
    ) -> Dependencies | None:
        """What a walk begun at `walk_started_ns` read; None when a file is too new to trust."""
        limit = walk_started_ns - RACY_NS
        if any(signature is not None and signature[1] >= limit for signature in files.values()):
            return None
        return cls(
            tuple(files.items()),
            tuple(
                (path, signature, signature is None or signature[0] < limit)
                for path, signature in folders.items()
            ),
        )

    def unchanged(self) -> bool:
        """Whether every file and folder is still as recorded (a `stat` each, mostly)."""
        return all(file_signature(path) == signature for path, signature in self.files) and all(
            folder_unchanged(path, signature, trust_mtime=trusted)
            for path, signature, trusted in self.folders
        )


def code_fingerprint() -> tuple[tuple[str, FileSignature], ...]:
    """Signatures of the code that makes a walk's result: an edited checkout invalidates."""
    graph = _PACKAGE / "graph"
    names = sorted(entry.name for entry in os.scandir(graph) if entry.name.endswith(".py"))
    files = [graph / name for name in names] + [_PACKAGE / name for name in _CODE]
    return tuple((str(file.relative_to(_PACKAGE)), file_signature(file)) for file in files)


def walk_key(*parts: object) -> WalkKey:
    """The key of a walk: `parts` (entry, roots, settings) plus this Python and preflight."""
    return (FORMAT, __version__, sys.version, sys.executable, code_fingerprint(), *parts)


def walks_file(root: Path) -> Path:
    """Where the walks whose first root is `root` are kept."""
    return root / "__pycache__" / f"preflight-{sys.implementation.cache_tag}.walks.pickle"


class WalkCache:
    """The walks stored under one root, loaded once and saved at most once per run."""

    def __init__(
        self, path: Path, entries: dict[WalkKey, tuple[Dependencies, WalkSummary]]
    ) -> None:
        """Hold `entries`, oldest first, as read from `path`."""
        self.path = path
        self._entries = entries

    @classmethod
    def load(cls, root: Path) -> WalkCache:
        """The walks kept under `root`, or none when the file is absent or cannot be trusted."""
        path = walks_file(root)
        entries: dict[WalkKey, tuple[Dependencies, WalkSummary]] = {}
        with contextlib.suppress(Exception):  # missing, truncated, foreign: start afresh
            stored = pickle.loads(path.read_bytes())  # noqa: S301 - our own file
            if isinstance(stored, dict):
                entries = stored
        return cls(path, entries)

    def lookup(self, key: WalkKey) -> WalkSummary | None:
        """The stored summary for `key`, if nothing it depended on has changed since."""
        entry = self._entries.get(key)
        if entry is None or not entry[0].unchanged():
            return None
        return entry[1]

    def store(self, key: WalkKey, dependencies: Dependencies, summary: WalkSummary) -> None:
        """Keep `summary` for `key` (newest last, at most `KEPT`); silently give up on errors."""
        self._entries.pop(key, None)
        self._entries[key] = (dependencies, summary)
        for stale in list(self._entries)[:-KEPT]:
            del self._entries[stale]
        save_pickle(self.path, self._entries)
