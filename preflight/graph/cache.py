"""The parse cache: a file's scan, kept while its size and mtime stay the same.

Parsing is ~85 % of a cold walk, so a build-time `preflight check --only imports` leaves its
scans next to the sources (`<root>/__pycache__/preflight-<python tag>.pickle`, like `.pyc`
files), and the start-time run in the container reuses them. Keyed on (path, size,
mtime_ns). A cache from another Python, another preflight, another scan model or an edited
scanner is ignored, and any failure to read or write it is silent (a read-only file system is
normal at run time).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from preflight._version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable

    from preflight.graph.model import ModuleScan

#: Bump when the scan model changes shape: older caches are then ignored.
MODEL_VERSION = 3


def _scanner_fingerprint() -> tuple[tuple[str, int, int], ...]:
    """Size and mtime of the code that makes scans: an edited scanner invalidates caches."""
    here = Path(__file__).parent
    files = ("scanner.py", "conditions.py", "model.py")
    stats = [(name, (here / name).stat()) for name in files if (here / name).exists()]
    return tuple((name, stat.st_size, stat.st_mtime_ns) for name, stat in stats)


#: Every cache starts with this; any difference and the cache is ignored.
HEADER = ("preflight-scan-cache", MODEL_VERSION, __version__, sys.version, _scanner_fingerprint())


def cache_file(root: Path) -> Path:
    """Where the cache of the modules under `root` lives."""
    return root / "__pycache__" / f"preflight-{sys.implementation.cache_tag}.pickle"


@dataclass
class ScanCache:
    """Scans of one root's files, loaded once and saved once per run."""

    path: Path
    entries: dict[str, tuple[int, int, ModuleScan]] = field(default_factory=dict)
    hits: int = 0
    changed: bool = False

    @classmethod
    def load(cls, root: Path) -> ScanCache:
        """The cache of `root`, or an empty one when there is none or it cannot be trusted."""
        path = cache_file(root)
        cache = cls(path)
        with contextlib.suppress(Exception):  # missing, truncated, foreign: start afresh
            data = path.read_bytes()
            collecting = gc.isenabled()  # the walk may have turned it off: leave it so
            gc.disable()  # tens of thousands of small objects, none of them garbage
            try:
                header, entries = pickle.loads(data)  # noqa: S301 - our own file
            finally:
                if collecting:
                    gc.enable()
            if header == HEADER and isinstance(entries, dict):
                cache.entries = entries
        return cache

    def get(
        self, file: Path, signature: tuple[int, int], load: Callable[[Path], ModuleScan]
    ) -> ModuleScan:
        """The scan of `file`, whose `file_signature` (taken before reading it) is given.

        Cached if unchanged, else loaded and remembered.
        """
        key = str(file)
        entry = self.entries.get(key)
        if entry is not None and entry[0] == signature[0] and entry[1] == signature[1]:
            self.hits += 1
            return entry[2]
        result = load(file)
        self.entries[key] = (*signature, result)
        self.changed = True
        return result

    def save(self) -> None:
        """Write the cache if it changed; silently give up on any error."""
        if not self.changed:
            return
        save_pickle(self.path, (HEADER, self.entries))


def save_pickle(path: Path, value: object) -> None:
    """Write `value` to `path` atomically (a partial file, then a rename); silent on any error.

    Two runs saving at once leave one whole file, never a mix; a read-only file system or a
    file where `__pycache__` should be is normal at run time.
    """
    with contextlib.suppress(Exception):
        path.parent.mkdir(exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_bytes(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        partial.replace(path)
