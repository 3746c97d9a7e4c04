"""Import names <-> distributions: which distribution a (missing) module belongs to.

Asked only when the imports check meets a module that is not there, so nothing is read until
then. The answer comes, in this order, from `importlib_metadata.packages_distributions()`
(RECORD and top_level.txt of every installed distribution), then from what editable installs
put on the path (`.pth` folders, setuptools' `__editable__` finders, `direct_url.json`), then
from the declared requirements, whose import names are inferred from their distribution
names (`PyJWT` -> `jwt`, `google-cloud-storage` -> `google.cloud.storage`): a distribution
that is not installed has no metadata to ask. No hand-kept table.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from importlib_metadata import IDistribution as Distribution

    from preflight.requirements import Declared

#: Spelling around a project name that its import name usually drops (`PyYAML` -> `yaml`).
_PREFIXES = ("python-", "python", "py-", "py")
_SUFFIXES = ("-python", "-py", "py")
_EDITABLE_FINDER = re.compile(r"^__editable___.*_finder\.py$")


@dataclass(frozen=True, slots=True)
class Owner:
    """The distribution a module belongs to, and what is known of it."""

    distribution: str
    """Its name as installed or declared (`PyJWT`)."""
    installed: bool
    """Whether it is installed (then the module is missing from an installed distribution)."""
    declared: Declared | None = None
    """Where the app declares it, if it does."""

    @property
    def declared_at(self) -> str | None:
        """`requirements.txt:3`, or None when undeclared."""
        return self.declared.where if self.declared is not None else None


def normalize(name: str) -> str:
    """Case-, dash-, underscore- and dot-blind spelling (PEP 503 and import names alike)."""
    return re.sub(r"[-_.]+", "", name).lower()


def import_names_of(distribution: str) -> set[str]:
    """Import names a distribution name suggests, normalized (`PyJWT` -> `pyjwt`, `jwt`)."""
    lowered = re.sub(r"[-_.]+", "-", distribution.lower())
    names = {lowered}
    for prefix in _PREFIXES:
        if lowered.startswith(prefix) and len(lowered) > len(prefix) + 1:
            names.add(lowered[len(prefix) :])
    for suffix in _SUFFIXES:
        if lowered.endswith(suffix) and len(lowered) > len(suffix) + 1:
            names.add(lowered[: -len(suffix)])
    return {normalize(name) for name in names}


class DistributionMap:
    """Lazily built: import names of installed distributions, and the declared requirements."""

    def __init__(
        self, declared: Callable[[], Sequence[Declared]] | Sequence[Declared] = ()
    ) -> None:
        """`declared`: the app's declared requirements, or a function giving them on demand."""
        self._declared_source = declared
        self._declared: Sequence[Declared] | None = None
        self._top_level: dict[str, list[str]] | None = None

    # --- installed ---------------------------------------------------------------------

    def top_level(self) -> dict[str, list[str]]:
        """Top-level import name -> installed distributions providing it (built on first use)."""
        if self._top_level is None:
            import importlib_metadata  # noqa: PLC0415 - only when a module is missing

            mapping = {
                name: list(dists)
                for name, dists in importlib_metadata.packages_distributions().items()
            }
            for dist in importlib_metadata.distributions():
                for name in editable_top_level(dist):
                    providers = mapping.setdefault(name, [])
                    if dist.name not in providers:
                        providers.append(dist.name)
            self._top_level = mapping
        return self._top_level

    def providers(self, module: str) -> list[str]:
        """Installed distributions whose files provide the top-level package of `module`."""
        return list(self.top_level().get(module.split(".", 1)[0], ()))

    # --- declared ------------------------------------------------------------------------

    def declared(self) -> Sequence[Declared]:
        """The declared requirements (read on first use)."""
        if self._declared is None:
            source = self._declared_source
            self._declared = source() if callable(source) else source
        return self._declared

    def declaration_of(self, distribution: str) -> Declared | None:
        """Where the app declares `distribution`, if it does."""
        wanted = normalize(distribution)
        return next((d for d in self.declared() if normalize(d.name) == wanted), None)

    # --- the question --------------------------------------------------------------------

    def owner(self, module: str, *, top_missing: bool = True) -> Owner | None:
        """Which distribution `module` belongs to, when it is known.

        `top_missing`: the top-level package itself is missing (then an installed provider
        of that name is a broken install). Without it (`google.cloud.x` under an installed
        `google` namespace) only a declared distribution named like the module answers.
        """
        if top_missing:
            for name in self.providers(module):
                return Owner(name, installed=True, declared=self.declaration_of(name))
        dotted = module.split(".")
        prefixes = {normalize(".".join(dotted[:depth])) for depth in range(1, len(dotted) + 1)}
        whole = normalize(module)
        for declared in self.declared():
            if not top_missing and normalize(declared.name) == normalize(dotted[0]):
                continue  # the namespace itself is installed: its name says nothing new
            parts = re.split(r"[-_.]+", declared.name)
            deeper = {normalize("".join(parts[:depth])) for depth in range(1, len(parts) + 1)}
            if import_names_of(declared.name) & prefixes or (top_missing and whole in deeper):
                return Owner(
                    declared.name, installed=_is_installed(declared.name), declared=declared
                )
        return None


def _is_installed(distribution: str) -> bool:
    import importlib_metadata  # noqa: PLC0415

    return next(iter(importlib_metadata.distributions(name=distribution)), None) is not None


# --- editable installs ----------------------------------------------------------------------


def editable_top_level(dist: Distribution) -> set[str]:
    """Top-level names an editable install provides, which its RECORD does not list.

    RECORD lists only the hook: a `.pth` naming source folders (hatchling, setuptools'
    lenient mode, flit), an `__editable___*_finder.py` with a `MAPPING` (setuptools' strict
    and compat modes), or nothing but `direct_url.json` pointing at the project.
    """
    names: set[str] = set()
    files = dist.files or ()
    for file in files:
        filename = file.parts[-1] if file.parts else ""
        if filename.endswith(".pth"):
            names |= _pth_top_level(Path(str(file.locate())))
        elif _EDITABLE_FINDER.match(filename):
            names |= _finder_top_level(Path(str(file.locate())))
    if not names:
        names |= _direct_url_top_level(dist)
    return names


def _pth_top_level(pth: Path) -> set[str]:
    try:
        lines = pth.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    names: set[str] = set()
    for line in lines:
        entry = line.strip()
        if not entry or entry.startswith(("#", "import ", "import\t")):
            continue
        names |= modules_in((pth.parent / entry).resolve())
    return names


def _finder_top_level(finder: Path) -> set[str]:
    """The keys of the finder's `MAPPING = {...}` literal, read without running it."""
    try:
        tree = ast.parse(finder.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        value = getattr(node, "value", None)
        if any(isinstance(t, ast.Name) and t.id == "MAPPING" for t in targets) and value:
            try:
                mapping = ast.literal_eval(value)
            except ValueError:
                return set()
            if isinstance(mapping, dict):
                return {str(key).split(".", 1)[0] for key in mapping}
    return set()


def _direct_url_top_level(dist: Distribution) -> set[str]:
    try:
        info = json.loads(dist.read_text("direct_url.json") or "{}")
    except (ValueError, OSError):
        return set()
    if not isinstance(info, dict) or not info.get("dir_info", {}).get("editable"):
        return set()
    url = str(info.get("url", ""))
    if not url.startswith("file://"):
        return set()
    project = Path(url.removeprefix("file://"))
    return modules_in(project / "src") | modules_in(project)


def modules_in(folder: Path) -> set[str]:
    """Importable top-level names in a folder: packages (with `__init__.py`) and modules."""
    names: set[str] = set()
    try:
        entries: Iterable[Path] = list(folder.iterdir())
    except OSError:
        return names
    for entry in entries:
        if entry.suffix == ".py" and entry.stem.isidentifier():
            names.add(entry.stem)
        elif entry.is_dir() and entry.name.isidentifier() and (entry / "__init__.py").is_file():
            names.add(entry.name)
    return names
