"""Reading first-party files into scans, through the per-root parse cache (the only file I/O)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from preflight.graph.cache import ScanCache
from preflight.graph.model import ModuleScan, SyntaxProblem
from preflight.graph.scanner import scan
from preflight.graph.signatures import FileSignature, file_signature

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from preflight.graph.resolver import Resolved


def read_and_scan(path: Path) -> ModuleScan:
    """Scan one file; an unreadable one is reported like a file that does not parse."""
    try:
        source = path.read_bytes()
    except OSError as error:
        return ModuleScan(syntax_error=SyntaxProblem(None, f"cannot read: {error.strerror}"))
    return scan(source)


class ScanLoader:
    """Loads scans for the walker, from each root's cache when it is on."""

    def __init__(self, roots: Sequence[Path], *, use_cache: bool = True) -> None:
        """Open the cache of every root (empty when absent or untrusted)."""
        self._caches = {root: ScanCache.load(root) for root in roots} if use_cache else {}
        self.parsed = 0
        """Files read and parsed this run (the rest came from a cache)."""
        self.files: dict[str, FileSignature] = {}
        """Every file scanned, with its signature taken before it was read (the walk cache's
        record of what the walk depended on)."""

    def __call__(self, resolved: Resolved) -> ModuleScan:
        """The scan of a first-party source module or package `__init__`."""
        if resolved.path is None:
            return ModuleScan()
        signature = file_signature(resolved.path)
        self.files[str(resolved.path)] = signature
        cache = self._caches.get(resolved.root) if resolved.root is not None else None
        if cache is None or signature is None:
            return self._parse(resolved.path)
        return cache.get(resolved.path, signature, self._parse)

    def _parse(self, path: Path) -> ModuleScan:
        self.parsed += 1
        return read_and_scan(path)

    @property
    def cached(self) -> int:
        """Files whose scan came from the cache."""
        return sum(cache.hits for cache in self._caches.values())

    def save(self) -> None:
        """Write back every cache that changed (silently skipped where it cannot)."""
        for cache in self._caches.values():
            cache.save()
