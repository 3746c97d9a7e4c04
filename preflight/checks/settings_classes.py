"""Find the pydantic-settings classes the entry reaches, statically (nothing is imported).

Used by the settings check when no class is configured: it walks the import graph from the
entry as the imports check does (through the same parse cache, never writing it) and lists the
first-party classes whose bases resolve to `BaseSettings` — directly, through an alias or a
re-export, or through another first-party subclass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from preflight.config import Config
    from preflight.graph.program import Program

#: Dotted names of the base class, as pydantic-settings (v2) and pydantic v1 export it.
BASE_SETTINGS: frozenset[str] = frozenset(
    {
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
        "pydantic.v1.BaseSettings",
        "pydantic.v1.env_settings.BaseSettings",
    }
)
#: How far bases, bindings and re-exports are followed.
MAX_DEPTH = 25


@dataclass(frozen=True, slots=True)
class SettingsClass:
    """A BaseSettings subclass found in a reachable module."""

    module: str
    name: str
    file: str | None
    """Its module's file, relative to its root."""
    chain: tuple[str, ...]
    """How the entry reaches its module."""

    @property
    def spec(self) -> str:
        """`pkg.mod:Class`, as `[tool.preflight.settings] class` takes it."""
        return f"{self.module}:{self.name}"


@dataclass(frozen=True, slots=True)
class Discovery:
    """What the search saw: the classes, and how many modules it looked at."""

    classes: tuple[SettingsClass, ...]
    modules: int


def discover(config: Config) -> Discovery:
    """Walk from `config.app` and list the reachable BaseSettings subclasses (CPU-bound)."""
    from preflight.graph.loader import ScanLoader  # noqa: PLC0415 - graph code, this path only
    from preflight.graph.resolver import Resolver  # noqa: PLC0415
    from preflight.graph.walker import Walker  # noqa: PLC0415

    if config.app is None:
        return Discovery((), 0)
    # The cache is read, never saved here: the imports check may be saving it at this moment.
    loader = ScanLoader(config.roots, use_cache=config.imports.cache)
    walker = Walker(
        Resolver(config.roots),
        loader,
        lazy="ignore",
        ignore=config.imports.ignore,
    )
    result = walker.walk(config.app.split(":", 1)[0])
    program = walker.program
    found: list[SettingsClass] = []
    for module, resolved in result.modules.items():
        for name in program.bases(module):
            if is_settings_class(program, module, name):
                chain = result.chains.get(module, (module,))
                found.append(SettingsClass(module, name, resolved.relative_file(), chain))
    return Discovery(tuple(found), len(result.modules))


def is_settings_class(program: Program, module: str, name: str) -> bool:
    """Whether class `name` of first-party `module` derives from BaseSettings."""
    return _derives(program, module, name, 0, set())


def _derives(
    program: Program, module: str, name: str, depth: int, seen: set[tuple[str, str]]
) -> bool:
    if depth > MAX_DEPTH or (module, name) in seen:
        return False
    seen.add((module, name))
    for base in program.bases(module).get(name, ()):
        target = resolve(program, module, base, depth + 1)
        if target is None:
            continue
        kind, where, cls = target
        if kind == "external" and f"{where}.{cls}" in BASE_SETTINGS:
            return True
        if kind == "first_party" and _derives(program, where, cls, depth + 1, seen):
            return True
    return False


def resolve(  # noqa: PLR0911 - one answer per kind of name
    program: Program, module: str, parts: tuple[str, ...], depth: int = 0
) -> tuple[str, str, str] | None:
    """What the dotted name `parts` means in `module`.

    ("first_party", module, class) for a class defined under the roots; ("external",
    module, name) for a name from an installed package; None when it cannot be known.
    """
    from preflight.graph.resolver import Resolver  # noqa: PLC0415

    scan = program.scan(module)
    if scan is None or not parts or depth > MAX_DEPTH:
        return None
    head, rest = parts[0], parts[1:]
    if not rest and head in scan.classes:
        return "first_party", module, head
    binding = program.bindings(module).get(head)
    if binding is not None:
        source = Resolver.absolute(
            binding.module, binding.level, module, program.is_package(module)
        )
        if source is None:
            return None
        names = rest if binding.attr is None else (binding.attr, *rest)
        if not names:
            return None
        if program.is_first_party(source):
            return resolve(program, source, names, depth + 1)
        dotted = ".".join((source, *names[:-1]))
        return "external", dotted, names[-1]
    submodule = f"{module}.{head}"
    if rest and program.is_first_party(submodule):
        return resolve(program, submodule, rest, depth + 1)
    return None
