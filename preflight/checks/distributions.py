"""The distributions check (exit 9): the installed distributions satisfy what the app declares.

The declared requirements (`preflight.requirements`) are compared with the distributions
importlib-metadata finds on this interpreter's path: a missing one is PF901, one installed at
a version outside its specifier PF902 (markers evaluated here, names compared PEP 503-style,
extras followed: what a requested extra pulls in counts as declared). Then, like `pip check`
but only over the distributions the declared ones reach, every broken requirement of an
installed distribution is a PF903 warning. Reading metadata is file I/O: it runs in a worker
thread, so the event loop and the deadline stay free.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from preflight.codes import ExitCode, Severity
from preflight.report import CheckResult, Finding, MetricValue
from preflight.secrets import mask_secrets

if TYPE_CHECKING:
    from importlib_metadata import IDistribution as Distribution
    from packaging.requirements import Requirement
    from packaging.version import Version

    from preflight.checks.base import CheckContext
    from preflight.config import Config
    from preflight.requirements import Declaration, Declared, Problem

CHECK = "distributions"


class DistributionsCheck:
    """Declared requirements against installed distributions: PF900-PF905."""

    name = CHECK
    exit_code = ExitCode.DISTRIBUTIONS

    def skip_reason(self, ctx: CheckContext) -> str | None:
        """Nothing to compare when the app declares nothing anywhere."""
        from preflight.requirements import app_pyproject  # noqa: PLC0415 - keep start cheap

        settings = ctx.config.distributions
        if settings.requirements or settings.distribution or app_pyproject(ctx.config):
            return None
        return (
            "no requirements declared ([tool.preflight.distributions] requirements or"
            " distribution, or [project] dependencies in the config's pyproject.toml)"
        )

    async def run(self, ctx: CheckContext) -> CheckResult:
        """Read the declarations and the installed metadata in a worker thread."""
        return await asyncio.get_running_loop().run_in_executor(None, check_config, ctx.config)


def check_config(config: Config) -> CheckResult:
    """The whole check, synchronously: declared requirements as configured, then `inspect`."""
    from preflight.requirements import declared_requirements  # noqa: PLC0415

    return inspect(declared_requirements(config))


def inspect(declaration: Declaration) -> CheckResult:
    """Compare `declaration` with the distributions installed on `sys.path`."""
    inspection = _Inspection(declaration)
    inspection.run()
    return inspection.result()


class Installed:
    """Installed distributions by name, looked up lazily (only the names asked about)."""

    def __init__(self) -> None:
        """Start with nothing read."""
        self._by_name: dict[str, Distribution | None] = {}
        self._requires: dict[str, list[Requirement]] = {}

    def get(self, name: str) -> Distribution | None:
        """The distribution `name` (PEP 503 spelling-blind), the first on the path, or None."""
        import importlib_metadata  # noqa: PLC0415
        from packaging.utils import canonicalize_name  # noqa: PLC0415

        key = canonicalize_name(name)
        if key not in self._by_name:
            self._by_name[key] = next(iter(importlib_metadata.distributions(name=name)), None)
        return self._by_name[key]

    @staticmethod
    def version(dist: Distribution) -> Version | None:
        """The installed version, or None when the metadata has no PEP 440 one."""
        from packaging.version import InvalidVersion, Version  # noqa: PLC0415

        try:
            return Version(dist.version)
        except (InvalidVersion, TypeError):
            return None

    def requires(self, key: str, dist: Distribution) -> list[Requirement]:
        """The distribution's `Requires-Dist`, parsed (lines that do not parse are left out)."""
        from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415

        if key not in self._requires:
            parsed = []
            for entry in dist.requires or ():
                try:
                    parsed.append(Requirement(entry))
                except InvalidRequirement:
                    continue
            self._requires[key] = parsed
        return self._requires[key]

    @staticmethod
    def extras(dist: Distribution) -> set[str]:
        """The extras the distribution provides, normalized."""
        from packaging.utils import canonicalize_name  # noqa: PLC0415

        return {canonicalize_name(e) for e in dist.metadata.get_all("Provides-Extra") or ()}


@dataclass(frozen=True, slots=True)
class _Visit:
    """One installed distribution reached, with the extras asked of it."""

    key: str
    dist: Distribution
    extras: frozenset[str]
    declared: Declared | None
    """The declaration this visit is part of (None for a plain transitive requirement)."""
    label: str
    """How it was reached, for messages: `fastapi[standard]`."""


@dataclass
class _Inspection:
    declaration: Declaration
    installed: Installed = field(default_factory=Installed)
    findings: list[Finding] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    """Names with an error finding already (no PF903 warning repeats them)."""
    done: set[tuple[str, str]] = field(default_factory=set)
    """(distribution, extra) pairs already checked; `""` is its base requirements."""
    queue: deque[_Visit] = field(default_factory=deque)
    checked: int = 0
    excluded: int = 0

    def run(self) -> None:
        self.findings += [_problem_finding(p) for p in self.declaration.problems]
        seen: set[tuple[str, ...]] = set()
        for declared in self.declaration.requirements:
            key = _dedupe_key(declared)
            if key in seen:
                continue
            seen.add(key)
            if not declared.applies():
                self.excluded += 1
                continue
            self.checked += 1
            self._declared(declared)
        for constraint in self.declaration.constraints:
            if constraint.applies():
                self._constraint(constraint)
        while self.queue:
            self._visit(self.queue.popleft())

    def _declared(self, declared: Declared) -> None:
        from packaging.utils import canonicalize_name  # noqa: PLC0415

        requirement = declared.requirement
        key = canonicalize_name(requirement.name)
        dist = self.installed.get(requirement.name)
        if dist is None:
            self.failed.add(key)
            self._add(
                "PF901",
                f"{requirement.name} is not installed (declared in {declared.where})",
                declared,
                f"pip install '{declared.pip_spec}'",
            )
            return
        version = self.installed.version(dist)
        if version is not None and not _satisfies(requirement, version):
            self.failed.add(key)
            self._add(
                "PF902",
                f"{requirement.name} {version} is installed, but {declared.where} requires"
                f" {requirement.name}{requirement.specifier}",
                declared,
                f"pip install '{declared.pip_spec}', or change the requirement",
            )
        extras = frozenset(canonicalize_name(e) for e in requirement.extras)
        self.queue.append(_Visit(key, dist, extras, declared, _label(requirement)))

    def _constraint(self, constraint: Declared) -> None:
        requirement = constraint.requirement
        dist = self.installed.get(requirement.name)
        version = self.installed.version(dist) if dist is not None else None
        if version is None or _satisfies(requirement, version):
            return
        self._add(
            "PF902",
            f"{requirement.name} {version} is installed, outside the constraint"
            f" {requirement.name}{requirement.specifier} ({constraint.where})",
            constraint,
            f"pip install '{constraint.pip_spec}', or change the constraint",
        )

    def _visit(self, visit: _Visit) -> None:
        """Check what the distribution requires: base (pip check: warnings) and asked extras."""
        provided = self.installed.extras(visit.dist)
        for extra in sorted(visit.extras - provided):
            if (visit.key, extra) in self.done:
                continue
            self.done.add((visit.key, extra))
            where = f" (declared in {visit.declared.where})" if visit.declared else ""
            self._add(
                "PF905",
                f"{visit.dist.name} {visit.dist.version} has no extra {extra!r}{where}",
                visit.declared,
                f"check the extra's spelling in {visit.label}",
                severity=Severity.WARNING,
            )
        for extra in ("", *sorted(visit.extras & provided)):
            if (visit.key, extra) in self.done:
                continue
            self.done.add((visit.key, extra))
            for requirement in self.installed.requires(visit.key, visit.dist):
                if _applies_for(requirement, extra):
                    self._requirement(visit, requirement, in_extra=bool(extra))

    def _requirement(self, visit: _Visit, requirement: Requirement, *, in_extra: bool) -> None:
        from packaging.utils import canonicalize_name  # noqa: PLC0415

        key = canonicalize_name(requirement.name)
        declared = visit.declared if in_extra else None  # an extra's requirements are declared
        dist = self.installed.get(requirement.name)
        parent = f"{visit.dist.name} {visit.dist.version}"
        wanted = f"{requirement.name}{requirement.specifier}"
        if dist is None:
            if declared is not None:
                self.failed.add(key)
                self._add(
                    "PF901",
                    f"{requirement.name} is not installed: {visit.label} requires"
                    f" {wanted} (declared in {declared.where})",
                    declared,
                    f"pip install '{wanted}'",
                )
            elif key not in self.failed:
                self._add(
                    "PF903",
                    f"{requirement.name} is not installed, but {parent} requires {wanted}",
                    None,
                    f"pip install '{wanted}', or reinstall {visit.dist.name}",
                    severity=Severity.WARNING,
                )
            return
        version = self.installed.version(dist)
        if version is not None and not _satisfies(requirement, version):
            message = f"{requirement.name} {version} is installed, but {parent} requires {wanted}"
            if declared is not None:
                self.failed.add(key)
                self._add(
                    "PF902",
                    f"{message} (for {visit.label}, declared in {declared.where})",
                    declared,
                    f"pip install '{wanted}'",
                )
            elif key not in self.failed:
                self._add(
                    "PF903",
                    message,
                    None,
                    f"pip install '{wanted}', or upgrade {visit.dist.name}",
                    severity=Severity.WARNING,
                )
        extras = frozenset(canonicalize_name(e) for e in requirement.extras)
        self.queue.append(_Visit(key, dist, extras, declared, _label(requirement)))

    def _add(
        self,
        code: str,
        message: str,
        declared: Declared | None,
        hint: str,
        *,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.findings.append(
            Finding(
                code=code,
                check=CHECK,
                severity=severity,
                message=message,
                name=declared.name if declared is not None else None,
                file=declared.file if declared is not None else None,
                line=declared.line if declared is not None else None,
                hint=hint,
            )
        )

    def result(self) -> CheckResult:
        errors = sum(1 for f in self.findings if f.severity is Severity.ERROR)
        sources = ", ".join(self.declaration.sources) or "nothing readable"
        if errors:
            summary = f"{errors} problem{'s' if errors != 1 else ''} in {self.checked} declared"
        else:
            summary = f"{self.checked} declared requirements satisfied"
        summary += f" ({sources})"
        metrics: dict[str, MetricValue] = {
            "declared": self.checked,
            "marker_excluded": self.excluded,
            "constraints": len(self.declaration.constraints),
            "reached": len({key for key, _ in self.done}),
            "skipped": [mask_secrets(entry) for entry in self.declaration.skipped],
        }
        return CheckResult.from_findings(CHECK, self.findings, summary, metrics)


def _problem_finding(problem: Problem) -> Finding:
    severity = Severity.WARNING if problem.code == "PF905" else Severity.ERROR
    return Finding(
        code=problem.code,
        check=CHECK,
        severity=severity,
        message=problem.message,
        file=problem.file,
        line=problem.line,
        hint=problem.hint,
    )


def _satisfies(requirement: Requirement, version: Version) -> bool:
    """As pip check has it: a pre-release counts when it falls inside the specifier."""
    return requirement.specifier.contains(version, prereleases=True)


def _applies_for(requirement: Requirement, extra: str) -> bool:
    """Base requirements for `""`; for an extra, the ones only that extra brings in."""
    marker = requirement.marker
    if marker is None:
        return not extra
    if not extra:
        return marker.evaluate({"extra": ""})
    return marker.evaluate({"extra": extra}) and not marker.evaluate({"extra": ""})


def _label(requirement: Requirement) -> str:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}"


def _dedupe_key(declared: Declared) -> tuple[str, ...]:
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    requirement = declared.requirement
    return (
        canonicalize_name(requirement.name),
        str(requirement.specifier),
        ",".join(sorted(requirement.extras)),
        str(requirement.marker),
        ",".join(declared.extras),
    )
