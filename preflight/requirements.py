r"""What the app declares it needs: the one reader of requirements, for both checks that use it.

Three sources, as `[tool.preflight.distributions]` says: requirements files (pip's format:
`-r`/`-c` includes, comments, `\\` continuations, markers, per-requirement `--hash` options),
the app's own `pyproject.toml` `[project]` dependencies with selected extras (self-references
such as `app[db]` expanded), and an installed distribution's own `Requires-Dist`. The
distributions check compares them with what is installed; the imports check asks them which
distribution a missing module belongs to. Nothing here imports the app or touches the network.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from packaging.requirements import Requirement

    from preflight.config import Config

#: pip's comment rule: `#` at the start of a line or after whitespace (so `url#egg=x` stays).
_COMMENT = re.compile(r"(^|\s+)#.*$")
#: Options that take the next token as their value when not written `--opt=value`.
_VALUE_OPTIONS = frozenset(
    {
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-e",
        "--editable",
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--trusted-host",
        "--no-binary",
        "--only-binary",
        "--use-feature",
        "--hash",
        "--config-settings",
        "--global-option",
        "--install-option",
    }
)
#: Where includes may nest: deeper is a loop pip would reject too.
MAX_INCLUDE_DEPTH = 20


@dataclass(frozen=True, slots=True)
class Declared:
    """One declared requirement and where it was declared."""

    requirement: Requirement
    """The requirement as packaging parsed it (name, extras, specifier, marker, URL)."""
    file: str | None = None
    """The file that declares it, as shown to the user (relative to the project folder)."""
    line: int | None = None
    """1-based line in `file`, when known."""
    origin: str | None = None
    """Where it comes from when not from a file line (`Requires-Dist of app 1.0`)."""
    extras: tuple[str, ...] = ("",)
    """The `extra` values its marker is evaluated with (`""` is the base requirements)."""

    @property
    def name(self) -> str:
        """The distribution name as written."""
        return self.requirement.name

    @property
    def where(self) -> str:
        """`requirements.txt:3`, `pyproject.toml:12`, or the origin."""
        if self.file is None:
            return self.origin or "the declared requirements"
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    @property
    def pip_spec(self) -> str:
        """What to `pip install` to satisfy it: name, extras and specifier, never a URL."""
        extras = f"[{','.join(sorted(self.requirement.extras))}]" if self.requirement.extras else ""
        return f"{self.requirement.name}{extras}{self.requirement.specifier}"

    def applies(self) -> bool:
        """Whether its marker holds on this interpreter (for any of its `extra` values)."""
        marker = self.requirement.marker
        return marker is None or any(marker.evaluate({"extra": extra}) for extra in self.extras)


@dataclass(frozen=True, slots=True)
class Problem:
    """Declared requirements that cannot be read: a missing file, a line that does not parse."""

    code: str
    """`PF904` (cannot be read) or `PF905` (an extra the project does not define)."""
    message: str
    file: str | None = None
    line: int | None = None
    hint: str | None = None


@dataclass(slots=True)
class Declaration:
    """Everything the app declares, with what could not be read and what was left out."""

    requirements: list[Declared] = field(default_factory=list)
    """What must be installed."""
    constraints: list[Declared] = field(default_factory=list)
    """`-c` lines: versions that must hold for what is installed, not a reason to install."""
    problems: list[Problem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Lines left out on purpose (a URL or path without a project name), as `file:line: why`."""
    sources: list[str] = field(default_factory=list)
    """What was read, for the summary: `requirements.txt`, `pyproject.toml [project]`, ..."""
    project: str | None = None
    """The app's own project name, when its pyproject says it (never a requirement itself)."""
    files: list[Path] = field(default_factory=list)
    """Every file read or looked for (the imports check's walk cache depends on them)."""


def declared_requirements(config: Config) -> Declaration:
    """The app's declared requirements as configured (see the module docstring for the order).

    Requirements files and `distribution` are explicit and used together; the app's own
    pyproject `[project]` is the fallback when neither is set.
    """
    declaration = Declaration()
    base = project_folder(config)
    settings = config.distributions
    for path in settings.requirements:
        RequirementsReader(declaration, base).read(path)
    if settings.distribution is not None:
        read_distribution(declaration, settings.distribution, settings.extras)
    if not settings.requirements and settings.distribution is None:
        if config.config is not None:
            declaration.files.append(config.config)  # it may gain a [project] table
        pyproject = app_pyproject(config)
        if pyproject is not None:
            read_pyproject(declaration, pyproject, settings.extras, base)
    return declaration


def project_folder(config: Config) -> Path:
    """The folder file names in findings are relative to: the config file's, else the first root."""
    if config.config is not None:
        return config.config.parent
    return config.roots[0] if config.roots else Path.cwd()


def app_pyproject(config: Config) -> Path | None:
    """The config file when it is a `pyproject.toml` with a `[project]` table."""
    path = config.config
    if path is None or path.name != "pyproject.toml":
        return None
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return path if isinstance(document.get("project"), dict) else None


def shown(path: Path, base: Path) -> str:
    """`path` relative to `base` when inside it, else as given."""
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


# --- requirements files ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    text: str


class RequirementsReader:
    """pip's requirements-file format, read into a `Declaration` (includes followed)."""

    def __init__(self, declaration: Declaration, base: Path) -> None:
        """Add what is read to `declaration`; show file names relative to `base`."""
        self._out = declaration
        self._base = base
        self._seen: set[Path] = set()

    def read(
        self,
        path: Path,
        *,
        constraint: bool = False,
        included_from: tuple[str, int] | None = None,
        depth: int = 0,
    ) -> None:
        """Read `path` and what it includes; a file that cannot be read is a PF904 problem."""
        where, line = included_from if included_from is not None else (None, None)
        resolved = path.resolve()
        if resolved in self._seen or depth > MAX_INCLUDE_DEPTH:
            return  # an include loop: each file counts once
        self._seen.add(resolved)
        self._out.files.append(path)
        name = shown(path, self._base)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            self._problem(f"requirements file {name} does not exist", where, line, path)
            return
        except IsADirectoryError:
            self._problem(f"requirements file {name} is a directory", where, line, path)
            return
        except OSError as error:
            self._problem(f"cannot read {name}: {error.strerror}", where, line, path)
            return
        except UnicodeDecodeError:
            self._problem(f"{name} is not UTF-8 text", name, None, path)
            return
        self._out.sources.append(name + (" (constraints)" if constraint else ""))
        for entry in logical_lines(text):
            self._line(path, name, entry, constraint=constraint, depth=depth)

    def _problem(self, message: str, where: str | None, line: int | None, path: Path) -> None:
        hint = (
            "fix the include (paths are relative to the including file)"
            if where is not None
            else "fix [tool.preflight.distributions] requirements (relative to the config file)"
        )
        self._out.problems.append(
            Problem("PF904", message, where or shown(path, self._base), line, hint)
        )

    def _line(self, path: Path, name: str, entry: _Line, *, constraint: bool, depth: int) -> None:
        args, options = split_options(entry.text)
        include = options.get("-r") or options.get("--requirement")
        nested = options.get("-c") or options.get("--constraint")
        for target, as_constraint in ((include, constraint), (nested, True)):
            if target is None:
                continue
            if "://" in target:
                self._out.skipped.append(f"{name}:{entry.number}: a remote include is not read")
                continue
            self.read(
                path.parent / target,
                constraint=as_constraint,
                included_from=(name, entry.number),
                depth=depth + 1,
            )
        editable = options.get("-e") or options.get("--editable")
        if editable is not None:
            args = editable
        if not args:
            return  # an option line (index URL, --hash on its own, ...): nothing to check
        requirement = self._requirement(args, path, name, entry, editable=editable is not None)
        if requirement is None:
            return
        declared = Declared(requirement, name, entry.number)
        (self._out.constraints if constraint else self._out.requirements).append(declared)

    def _requirement(
        self, text: str, path: Path, name: str, entry: _Line, *, editable: bool
    ) -> Requirement | None:
        from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415

        if editable or _looks_like_location(text):
            # pip reads a local path relative to the folder it runs in (the project's, as a
            # rule), not to the file: `-e .` in requirements/prod.txt is the project itself
            named = name_of_location(text, self._base) or name_of_location(text, path.parent)
            if named is None:
                self._out.skipped.append(
                    f"{name}:{entry.number}: a URL or path without a project name"
                    " (write NAME @ URL, or add #egg=NAME)"
                )
            return named
        try:
            return Requirement(text)
        except InvalidRequirement as error:
            problem = str(error).splitlines()[0]
            self._out.problems.append(
                Problem(
                    "PF904",
                    f"{name}:{entry.number}: not a valid requirement: {problem}",
                    name,
                    entry.number,
                    "write it as PEP 508 says: name[extras] specifier ; marker",
                )
            )
            return None


def logical_lines(text: str) -> Iterator[_Line]:
    """Lines with backslash continuations joined and comments removed, numbered by their first."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.endswith("\\") and not _COMMENT.search(raw):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        joined = _COMMENT.sub("", "".join(pending)).strip()
        pending = []
        if joined:
            yield _Line(start, joined)
    if pending:
        joined = _COMMENT.sub("", "".join(pending)).strip()
        if joined:
            yield _Line(start, joined)


def split_options(text: str) -> tuple[str, dict[str, str]]:
    """The requirement part of a line and its options (pip: options start at the first `-`)."""
    tokens = text.split()
    args: list[str] = []
    options: dict[str, str] = {}
    index = 0
    while index < len(tokens) and not tokens[index].startswith("-"):
        args.append(tokens[index])
        index += 1
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.startswith("--") and "=" in token:
            key, value = token.split("=", 1)
        elif token in _VALUE_OPTIONS and index < len(tokens):
            key, value = token, tokens[index]
            index += 1
        elif token[:2] in {"-r", "-c", "-e", "-i", "-f"} and token[2:]:  # `-rother.txt`
            key, value = token[:2], token[2:]
        else:
            key, value = token, ""
        options.setdefault(key, value)
    return " ".join(args), options


def _looks_like_location(text: str) -> bool:
    """A URL or a path rather than `name spec`: pip installs those, a name is in them or not."""
    head = text.split(";", 1)[0].strip()
    if re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@", head):
        return False  # `name @ url` is a PEP 508 requirement with a name
    archive = head.endswith((".whl", ".zip", ".tar.gz"))
    return "://" in head or head.startswith((".", "/", "~")) or archive


def name_of_location(text: str, folder: Path) -> Requirement | None:
    """The project a URL or path installs, or None when it does not say.

    It says so by `#egg=NAME`, a wheel or sdist file name, or a local folder's pyproject.toml.
    """
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415
    from packaging.utils import (  # noqa: PLC0415
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    location = text.split(";", 1)[0].strip()
    egg = re.search(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?)", location)
    candidate: str | None = egg[1] if egg else None
    tail = location.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    if candidate is None and tail.endswith(".whl"):
        try:
            project, version, _, _ = parse_wheel_filename(tail)
            candidate = f"{project}=={version}"
        except InvalidWheelFilename:
            candidate = None
    elif candidate is None and tail.endswith((".tar.gz", ".zip")):
        try:
            candidate = str(parse_sdist_filename(tail)[0])
        except InvalidSdistFilename:
            candidate = None
    if candidate is None and "://" not in location:
        candidate = _local_project_name((folder / location).expanduser())
    if candidate is None:
        return None
    try:
        return Requirement(candidate)
    except InvalidRequirement:
        return None


def _local_project_name(path: Path) -> str | None:
    try:
        document = tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    project = document.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    return name if isinstance(name, str) else None


# --- pyproject.toml [project] ---------------------------------------------------------------


def read_pyproject(declaration: Declaration, path: Path, extras: Iterable[str], base: Path) -> None:
    """`[project] dependencies` plus the selected extras' (self-references like `app[db]` too)."""
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    name = shown(path, base)
    declaration.files.append(path)
    try:
        text = path.read_text(encoding="utf-8")
        project: dict[str, Any] = tomllib.loads(text).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        declaration.problems.append(Problem("PF904", f"cannot read {name}: {error}", name))
        return
    declaration.project = str(project.get("name") or "") or None
    if "dependencies" in project.get("dynamic", ()):
        declaration.problems.append(
            Problem(
                "PF904",
                f"{name}: [project] dependencies are dynamic (computed by the build backend)",
                name,
                hint="set [tool.preflight.distributions] requirements or distribution",
            )
        )
        return
    own = canonicalize_name(declaration.project) if declaration.project else None
    optional = {
        canonicalize_name(key): value
        for key, value in (project.get("optional-dependencies") or {}).items()
    }
    declaration.sources.append(f"{name} [project]")
    queue: list[str] = list(project.get("dependencies") or ())
    done: set[str] = set()
    pending = [canonicalize_name(extra) for extra in extras]
    while queue or pending:
        if not queue:
            wanted = pending.pop(0)
            if wanted in done:
                continue
            done.add(wanted)
            if wanted not in optional:
                declaration.problems.append(
                    Problem(
                        "PF905",
                        f"the project {declaration.project or name} has no extra {wanted!r}",
                        name,
                        hint="fix [tool.preflight.distributions] extras, or define the extra"
                        " in [project.optional-dependencies]",
                    )
                )
                continue
            queue = list(optional[wanted])
            continue
        entry = queue.pop(0)
        line = _line_of(text, entry)
        try:
            requirement = Requirement(entry)
        except InvalidRequirement as error:
            declaration.problems.append(
                Problem(
                    "PF904",
                    f"{name}: not a valid requirement: {str(error).splitlines()[0]}",
                    name,
                    line,
                    "write it as PEP 508 says: name[extras] specifier ; marker",
                )
            )
            continue
        if own is not None and canonicalize_name(requirement.name) == own:
            pending += [canonicalize_name(e) for e in requirement.extras]  # `app[db]`
            continue
        declaration.requirements.append(Declared(requirement, name, line))


def _line_of(text: str, entry: str) -> int | None:
    """The line where a dependency string is written (TOML parsers do not say)."""
    for quote in ('"', "'"):
        index = text.find(f"{quote}{entry}{quote}")
        if index >= 0:
            return text.count("\n", 0, index) + 1
    return None


# --- an installed distribution's Requires-Dist ----------------------------------------------


def read_distribution(declaration: Declaration, name: str, extras: Iterable[str]) -> None:
    """The `Requires-Dist` of an installed distribution (the app installed as a package)."""
    import importlib_metadata  # noqa: PLC0415
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    where = "[tool.preflight.distributions] distribution"
    try:
        self_requirement = Requirement(name)
    except InvalidRequirement:
        declaration.problems.append(
            Problem("PF904", f"{where}: {name!r} is not a distribution name", None)
        )
        return
    declaration.project = self_requirement.name
    dist = next(iter(importlib_metadata.distributions(name=self_requirement.name)), None)
    if dist is None:  # the distribution itself is the first missing requirement
        declaration.requirements.append(Declared(self_requirement, origin=where))
        return
    version = dist.version
    origin = f"Requires-Dist of {self_requirement.name} {version}"
    declaration.sources.append(origin)
    selected = ("", *(canonicalize_name(extra) for extra in extras))
    provided = {canonicalize_name(e) for e in dist.metadata.get_all("Provides-Extra") or ()}
    for extra in selected[1:]:
        if extra not in provided:
            declaration.problems.append(
                Problem(
                    "PF905",
                    f"{self_requirement.name} {version} has no extra {extra!r}",
                    hint="fix [tool.preflight.distributions] extras",
                )
            )
    requirements: list[Requirement] = []
    for entry in dist.requires or ():
        try:
            requirements.append(Requirement(entry))
        except InvalidRequirement:
            declaration.skipped.append(f"{origin}: {entry!r} does not parse")
    own = canonicalize_name(self_requirement.name)
    selected = _with_self_extras(requirements, own, selected)
    for requirement in requirements:
        if canonicalize_name(requirement.name) != own:
            declaration.requirements.append(Declared(requirement, origin=origin, extras=selected))


def _with_self_extras(
    requirements: list[Requirement], own: str, selected: tuple[str, ...]
) -> tuple[str, ...]:
    """`app[all]` requiring `app[db]`: the selected extras grown to a fixed point."""
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    growing = True
    while growing:
        growing = False
        for requirement in requirements:
            if canonicalize_name(requirement.name) != own:
                continue
            if Declared(requirement, extras=selected).applies():
                added = {canonicalize_name(e) for e in requirement.extras} - set(selected)
                selected = (*selected, *sorted(added))
                growing = growing or bool(added)
    return selected
