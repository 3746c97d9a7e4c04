"""Resolve dotted module names the way CPython's import system would, without importing.

The walker asks "what is `a.b.c`?" thousands of times: a first-party source file to parse, a
package, a namespace package, a compiled module, the standard library, an installed
third-party module, or nothing (a boot-breaking import). The answer must match what the
interpreter would do at boot, and finding it must never execute app or third-party code:
`importlib.util.find_spec("a.b")` imports `a` (runs its `__init__.py`), so it is not used.

Names are resolved component by component, like the import system: a top-level name is
searched on the configured roots first (as `PYTHONPATH` puts them first), then on the
interpreter's `sys.path`; a submodule only in its parent's search locations. Each path entry
is asked through the path-entry finders that `sys.path_hooks` builds (`FileFinder` for
directories), which list directories and match file names, nothing more. This is
`importlib.machinery.PathFinder.find_spec`'s loop, done here rather than by calling it
because PathFinder (a) raises `KeyError` for a namespace package nested in another one whose
parent is not in `sys.modules` (it builds a `_NamespacePath` that looks the parent module
up), (b) recomputes a top-level namespace package's portions from the real `sys.path` when
they are read after `sys.path` changed, and (c) caches a finder for every directory in the
global `sys.path_importer_cache`. The finders here are the resolver's own.

Modules built into the interpreter, and frozen standard-library modules (`os`, `io`, `abc`,
`codecs`, ...), come before any path entry in `sys.meta_path`: a root cannot shadow them. A
top-level name that no path entry has is asked of the other finders in `sys.meta_path`
(editable installs map names to directories that way); see `Resolver._ask_meta_path`.

First-party means "under a root": the file or package directory lies under a configured
root, compared as written and then with symlinks resolved, but never inside a
`site-packages` / `dist-packages` directory or the standard library (a virtualenv inside
the project directory is still third-party).
"""

from __future__ import annotations

import enum
import os
import sys
from dataclasses import dataclass, replace
from importlib.machinery import SOURCE_SUFFIXES as _SOURCE_SUFFIXES
from importlib.machinery import BuiltinImporter, FrozenImporter, PathFinder
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from preflight.graph.signatures import FolderSignature, folder_signature

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec

    from _typeshed.importlib import MetaPathFinderProtocol, PathEntryFinderProtocol

#: Directories that hold installed distributions: never first-party, even inside a root
#: (a virtualenv at `/app/.venv` under the root `/app` is common in containers).
_SITE_DIRS = frozenset({"site-packages", "dist-packages"})
_SOURCE = tuple(_SOURCE_SUFFIXES)
_STDLIB_NAMES = frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names)


class ModuleKind(enum.Enum):
    """What a dotted name resolves to."""

    SOURCE = "source"
    """A first-party `.py` module file."""
    PACKAGE = "package"
    """A first-party regular package; its path is the `__init__.py`."""
    NAMESPACE = "namespace"
    """A first-party namespace package (directories without `__init__.py`)."""
    EXTENSION = "extension"
    """A first-party compiled or bytecode-only module (`.so`, `.pyd`, a lone `.pyc`)."""
    STDLIB = "stdlib"
    """The standard library (built in, frozen, or found on `sys.path`), and its submodules."""
    THIRD_PARTY = "third_party"
    """Found outside the roots: on the interpreter's `sys.path`, or by an installed finder."""
    MISSING = "missing"
    """Not found: importing it raises ModuleNotFoundError."""


_FIRST_PARTY_PACKAGES = frozenset({ModuleKind.PACKAGE, ModuleKind.NAMESPACE})
_OUTSIDE = frozenset({ModuleKind.STDLIB, ModuleKind.THIRD_PARTY})


@dataclass(frozen=True, slots=True)
class Resolved:
    """One dotted name, resolved."""

    name: str
    """The absolute dotted name."""
    kind: ModuleKind
    path: Path | None
    """The module's file (the `__init__.py` of a package, the `.so` of an extension); None
    for namespace packages, missing and built-in modules, and `os.path`-like attributes."""
    root: Path | None
    """The configured root it lies under (absolute, as configured), for first-party names."""
    search_locations: tuple[Path, ...] = ()
    """Where its submodules are searched: the package directory, or a namespace's portions."""

    @property
    def first_party(self) -> bool:
        """It lies under one of the roots: the walker parses and follows it."""
        return self.root is not None

    @property
    def is_package(self) -> bool:
        """It can have submodules (a package of any kind, first-party or not)."""
        return self.kind in _FIRST_PARTY_PACKAGES or bool(self.search_locations)

    def relative_file(self) -> str | None:
        """Its file relative to its root, posix style (`app/api/__init__.py`), for findings.

        None when it has no file or is not first-party.
        """
        if self.path is None or self.root is None:
            return None
        try:
            return self.path.relative_to(self.root).as_posix()
        except ValueError:
            pass
        try:  # under the root only once symlinks are resolved
            real = Path(os.path.realpath(self.path))
            return real.relative_to(os.path.realpath(self.root)).as_posix()
        except ValueError:
            return self.path.as_posix()


class _Found(NamedTuple):
    """What a finder located: a file and/or the places its submodules live."""

    origin: str | None
    locations: tuple[str, ...]
    namespace: bool


@dataclass(frozen=True, slots=True)
class _Root:
    path: Path
    lexical: str
    real: str
    excluded: tuple[str, ...]
    """The interpreter's standard library directories, when they lie inside this root."""


class Resolver:
    """Dotted name -> `Resolved`, searching `roots` first, then `sys_path`. Memoized.

    `sys_path` defaults to the interpreter's `sys.path`; `''` (the current directory) and
    entries that are the same directory as a root are dropped. A root that is not an existing
    directory is skipped. Unreadable directories, broken symlinks and symlink loops make
    names missing; they never raise.
    """

    def __init__(self, roots: Sequence[Path], sys_path: Sequence[str] | None = None) -> None:
        """Snapshot the roots, the path, the path hooks and `sys.meta_path`."""
        self._roots = _roots(roots)
        root_reals = {root.real for root in self._roots}
        entries: list[str] = []
        for entry in sys.path if sys_path is None else sys_path:
            if (
                isinstance(entry, str)
                and entry
                and entry not in entries
                and _real(entry) not in root_reals
            ):
                entries.append(entry)
        self._sys_path = tuple(entries)
        self._top_path = tuple(root.lexical for root in self._roots) + self._sys_path
        # For classification, the deepest root wins when roots are nested (`.` and `src`).
        self._by_depth = tuple(sorted(self._roots, key=lambda root: -len(root.lexical)))
        self._hooks: tuple[Callable[[str], PathEntryFinderProtocol], ...] = tuple(sys.path_hooks)
        self._meta = tuple(finder for finder in sys.meta_path if _askable(finder))
        self._distutils_shim = any(_is_distutils_shim(finder) for finder in sys.meta_path)
        self._finders: dict[str, PathEntryFinderProtocol | None] = {}
        self._cache: dict[str, Resolved] = {}
        self.directories: dict[str, FolderSignature] = {}
        """Every folder whose listing an answer depended on (the roots, the path entries
        searched, each package's search locations), signed before it was listed: what the
        walk cache checks to know that no answer has changed."""
        for root in roots:
            self._depend_on(os.fspath(root))

    @property
    def roots(self) -> tuple[Path, ...]:
        """The roots actually searched (absolute, existing directories, in order)."""
        return tuple(root.path for root in self._roots)

    @property
    def sys_path(self) -> tuple[str, ...]:
        """The entries searched after the roots."""
        return self._sys_path

    def resolve(self, name: str) -> Resolved:
        """What importing the absolute dotted `name` would find (memoized)."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        parts = name.split(".")
        if not all(parts):  # "", ".a", "a..b": not an importable name
            result = Resolved(name, ModuleKind.MISSING, None, None)
            self._cache[name] = result
            return result
        parent: Resolved | None = None
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            current = self._cache.get(prefix)
            if current is None:
                if parent is None:
                    current = self._resolve_top(prefix)
                else:
                    current = self._resolve_child(prefix, parent)
                self._cache[prefix] = current
            parent = current
        assert parent is not None  # noqa: S101 - `parts` is not empty
        return parent

    @staticmethod
    def absolute(module: str, level: int, importer: str, importer_is_package: bool) -> str | None:
        """The absolute name of an import in `importer` (PEP 328), or None if it cannot be.

        `from ..x import y` in `a.b.c` (a module) is `a.x`; in `a/b/c/__init__.py` (a
        package, its own anchor) it is `a.b.x`. None for "attempted relative import beyond
        top-level package" and for a relative import in a top-level module.
        """
        if level <= 0:
            return module
        package = importer if importer_is_package else importer.rpartition(".")[0]
        if not package:
            return None
        bits = package.rsplit(".", level - 1)
        if len(bits) < level:
            return None
        base = bits[0]
        return f"{base}.{module}" if module else base

    # -- resolution ---------------------------------------------------------------------

    def _resolve_top(self, name: str) -> Resolved:
        unshadowable = self._builtin_or_frozen(name)
        if unshadowable is not None:
            return unshadowable
        found = self._search(name, self._top_path)
        if found is not None:
            return self._classify(name, found, self._root_of_found(found))
        found = self._ask_meta_path(name)
        if found is not None:
            return self._classify(name, found, self._root_of_found(found))
        if name == "distutils" and self._distutils_shim:
            shim = self.resolve("setuptools._distutils")
            if shim.kind is not ModuleKind.MISSING:
                return replace(shim, name=name)
        return Resolved(name, ModuleKind.MISSING, None, None)

    def _builtin_or_frozen(self, name: str) -> Resolved | None:
        """Built-in and frozen stdlib modules: their importers come before the path.

        `__main__` is always in `sys.modules` (the program being run): `import __main__` works.
        """
        if name in sys.builtin_module_names or name == "__main__":
            return Resolved(name, ModuleKind.STDLIB, None, None)
        if name in sys.stdlib_module_names and _is_frozen(name):
            # The source file, when the standard library is on the path, is informative only.
            found = self._search(name, self._sys_path)
            if found is None:
                return Resolved(name, ModuleKind.STDLIB, None, None)
            return self._classify(name, found, None)
        return None

    def _resolve_child(self, name: str, parent: Resolved) -> Resolved:
        if parent.kind is ModuleKind.MISSING:
            return Resolved(name, ModuleKind.MISSING, None, None)
        if not parent.search_locations:
            if parent.kind in _OUTSIDE or parent.kind is ModuleKind.EXTENSION:
                # `os.path`, `six.moves`, a Rust/C extension registering `ext.sub`: a plain
                # module that puts the submodule in sys.modules at run time. Not a file to
                # find; only existence is checked for such code, so it is trusted.
                return Resolved(name, parent.kind, None, parent.root)
            return Resolved(name, ModuleKind.MISSING, None, None)
        found = self._search(name, [os.fspath(path) for path in parent.search_locations])
        if found is None:
            return Resolved(name, ModuleKind.MISSING, None, None)
        # Inside the parent's one directory: the parent's side of the line. Else a namespace
        # package whose portions may lie on both sides.
        root = parent.root if len(parent.search_locations) == 1 else self._root_of_found(found)
        outside = parent.kind if parent.kind in _OUTSIDE else None
        return self._classify(name, found, root, outside)

    def _classify(
        self, name: str, found: _Found, root: Path | None, outside: ModuleKind | None = None
    ) -> Resolved:
        """The kind of what was found; `outside`: the parent's, when it is not first-party."""
        for location in found.locations:
            self._depend_on(location)
        locations = tuple(Path(location) for location in found.locations)
        path = None if found.origin is None else Path(_absolute_path(found.origin))
        if root is None:
            if outside is None:
                top = name.partition(".")[0]
                outside = ModuleKind.STDLIB if top in _STDLIB_NAMES else ModuleKind.THIRD_PARTY
            return Resolved(name, outside, path, None, locations)
        if found.namespace or path is None:
            return Resolved(name, ModuleKind.NAMESPACE, None, root, locations)
        if found.origin is not None and found.origin.endswith(_SOURCE):
            kind = ModuleKind.PACKAGE if locations else ModuleKind.SOURCE
        else:
            kind = ModuleKind.EXTENSION
        return Resolved(name, kind, path, root, locations)

    # -- finding ------------------------------------------------------------------------

    def _search(self, fullname: str, entries: Sequence[str]) -> _Found | None:
        """PathFinder's loop: the first module or regular package wins; else the portions."""
        portions: list[str] = []
        for entry in entries:
            finder = self._finder(entry)
            if finder is None:
                continue
            try:
                spec = finder.find_spec(fullname)
            except Exception:  # noqa: BLE001, S112 - an unreadable or odd entry is just a miss
                continue
            if spec is None:
                continue
            if spec.loader is not None:
                return _found(spec)
            portions.extend(_locations(spec))
        if portions:
            return _Found(None, tuple(portions), namespace=True)
        return None

    def _finder(self, entry: str) -> PathEntryFinderProtocol | None:
        """The path-entry finder for `entry`, built by the first hook that accepts it."""
        try:
            return self._finders[entry]
        except KeyError:
            pass
        self._depend_on(entry)
        finder: PathEntryFinderProtocol | None = None
        for hook in self._hooks:
            try:
                finder = hook(entry)
            except Exception:  # noqa: BLE001, S112 - ImportError: "not mine"; others: skip too
                continue
            break
        self._finders[entry] = finder
        return finder

    def _depend_on(self, directory: str) -> None:
        if directory not in self.directories:
            self.directories[directory] = folder_signature(directory)

    def _ask_meta_path(self, name: str) -> _Found | None:
        """Ask the other installed finders about a top-level name the path does not have.

        Editable installs (setuptools' `__editable___*_finder`, hatchling's `editables`,
        pdm) put a finder in `sys.meta_path` that maps top-level names to directories
        outside `sys.path`. Such finders are import machinery the environment installed, not
        app code: `find_spec` only locates a module and returns a spec; the module is
        executed by `exec_module`, which is never called here. Only top-level names are
        asked, only after the path search failed, and any error is a miss. Finders known
        to import in `find_spec` are not asked (see `_askable`).
        """
        for finder in self._meta:
            try:
                spec = finder.find_spec(name, None)
            except Exception:  # noqa: BLE001, S112 - a broken finder is a miss, never a crash
                continue
            if spec is not None:
                return _found(spec)
        return None

    # -- first-party --------------------------------------------------------------------

    def _root_of_found(self, found: _Found) -> Path | None:
        if found.origin is not None:
            return self._root_of(found.origin)
        for location in found.locations:
            root = self._root_of(location)
            if root is not None:
                return root
        return None

    def _root_of(self, location: str) -> Path | None:
        """The root `location` lies under (deepest first), compared as written, then real."""
        lexical = _absolute_path(location)
        for root in self._by_depth:
            if _owned(lexical, root.lexical, root.excluded):
                return root.path
        real = _real(lexical)
        if real is None:
            return None
        for root in self._by_depth:
            if _owned(real, root.real, root.excluded):
                return root.path
        return None


def _roots(roots: Sequence[Path]) -> tuple[_Root, ...]:
    stdlib = _stdlib_dirs()
    result: list[_Root] = []
    seen: set[str] = set()
    for root in roots:
        try:
            # Normalized, symlinks kept (Path.resolve would follow them): the root as written.
            lexical = os.path.abspath(root)  # noqa: PTH100
            if not Path(lexical).is_dir():  # missing, a file, a broken link or a loop
                continue
            real = os.path.realpath(lexical)
        except (OSError, ValueError):
            continue
        if real in seen:
            continue
        seen.add(real)
        excluded = tuple(
            directory
            for directory in stdlib
            if directory not in {lexical, real}
            and (_within(directory, lexical) is not None or _within(directory, real) is not None)
        )
        result.append(_Root(Path(lexical), lexical, real, excluded))
    return tuple(result)


def _stdlib_dirs() -> tuple[str, ...]:
    """The standard library's directory, as written and resolved."""
    origin = getattr(os, "__file__", None)
    if not origin:
        return ()
    directory = str(Path(origin).parent)
    return tuple(dict.fromkeys((directory, os.path.realpath(directory))))


def _within(path: str, base: str) -> str | None:
    """`path` relative to `base` if it lies under it ('' for `base` itself), else None."""
    if path == base:
        return ""
    prefix = base if base.endswith(os.sep) else base + os.sep
    if path.startswith(prefix):
        return path[len(prefix) :]
    return None


def _owned(path: str, root: str, excluded: tuple[str, ...]) -> bool:
    relative = _within(path, root)
    if relative is None:
        return False
    if any(f"{os.sep}{site}{os.sep}" in f"{os.sep}{relative}{os.sep}" for site in _SITE_DIRS):
        return False
    return not any(_within(path, directory) is not None for directory in excluded)


def _real(path: str) -> str | None:
    """`path` with symlinks resolved (a loop stays unresolved); None if it cannot be a path."""
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):  # NUL bytes, odd entries
        return None


def _absolute_path(path: str) -> str:
    # Strings in, strings out: this runs once per module, pathlib would cost more.
    return path if os.path.isabs(path) else os.path.abspath(path)  # noqa: PTH100, PTH117


def _found(spec: ModuleSpec) -> _Found:
    origin = spec.origin if spec.has_location else None
    locations = _locations(spec)
    return _Found(origin, locations, namespace=spec.loader is None and bool(locations))


def _locations(spec: ModuleSpec) -> tuple[str, ...]:
    try:
        return tuple(
            location
            for location in spec.submodule_search_locations or ()
            if isinstance(location, str)
        )
    except Exception:  # noqa: BLE001 - a foreign finder's lazy path object may fail to compute
        return ()


def _is_frozen(name: str) -> bool:
    try:
        return FrozenImporter.find_spec(name) is not None
    except Exception:  # noqa: BLE001 - looking up a frozen module executes nothing; be safe
        return False


def _askable(finder: MetaPathFinderProtocol) -> bool:
    """Whether a `sys.meta_path` finder may be asked about a top-level name.

    Built-in and frozen modules are handled before the roots, and the path search is ours.
    setuptools' distutils shim imports `setuptools._distutils` inside `find_spec`: never asked
    (`distutils` is emulated instead: the shim's answer is that directory).
    """
    if finder is BuiltinImporter or finder is FrozenImporter or finder is PathFinder:
        return False
    return not _is_distutils_shim(finder)


def _is_distutils_shim(finder: object) -> bool:
    return type(finder).__module__ == "_distutils_hack"
