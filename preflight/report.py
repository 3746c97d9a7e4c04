"""Findings, check results and the report: frozen values, and the exit-code rules.

Checks return these values and never print; renderers and the event log read them. Secrets
are masked when a finding is made, so no output path can leak what a check quoted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from preflight._version import __version__
from preflight.codes import (
    CHECK_EXIT_CODES,
    ExitCode,
    Severity,
    exit_code_of,
    lookup,
    timeout_code,
)
from preflight.secrets import mask_secrets

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

REPORT_SCHEMA = "preflight.report/1"

MetricValue = int | float | str | bool | None | list[Any] | dict[str, Any]


class Status(enum.Enum):
    """Outcome of one check (and, without `skip`/`timeout`, of the whole run)."""

    PASS = "pass"  # noqa: S105 - a status name, not a password
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem (or note) a check found, with where it is and what to do about it."""

    code: str
    """Catalogue code, `PF<exit code><two digits>`; its exit code is what an error causes."""
    check: str
    """Name of the check that found it."""
    severity: Severity
    """`error` fails the run; `warning` fails it only under `--strict`; `info` never does."""
    message: str
    """One line saying what is wrong."""
    module: str | None = None
    """The module concerned, dotted."""
    name: str | None = None
    """The name concerned inside `module` (an attribute, a setting, a middleware class)."""
    file: str | None = None
    """Path of the file, relative to its source root."""
    line: int | None = None
    """1-based line in `file`."""
    chain: tuple[str, ...] = ()
    """How the entry reaches the problem: entry module first, one hop per item."""
    hint: str | None = None
    """One line: what to do about it."""
    output: str | None = None
    """The last lines a process printed before it failed (the app-loading child's output)."""

    def __post_init__(self) -> None:
        """Check the code against the catalogue and mask secrets in every text field."""
        lookup(self.code)
        for name in ("message", "module", "name", "file", "hint", "output"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, mask_secrets(value))
        object.__setattr__(self, "chain", tuple(mask_secrets(hop) for hop in self.chain))

    @property
    def exit_code(self) -> int:
        """The exit code this finding causes when it counts as a failure."""
        return exit_code_of(self.code)

    def fails(self, *, strict: bool) -> bool:
        """Whether this finding fails the run (errors always; warnings under `--strict`)."""
        return self.severity is Severity.ERROR or (strict and self.severity is Severity.WARNING)

    def to_dict(self) -> dict[str, Any]:
        """The report's JSON shape: every SPEC field, `null` where it does not apply."""
        return {
            "code": self.code,
            "check": self.check,
            "severity": self.severity.value,
            "message": self.message,
            "module": self.module,
            "name": self.name,
            "file": self.file,
            "line": self.line,
            "chain": list(self.chain) if self.chain else None,
            "hint": self.hint,
            "output": self.output,
        }


def _frozen_metrics(metrics: Mapping[str, MetricValue] | None) -> Mapping[str, MetricValue]:
    return MappingProxyType(dict(metrics or {}))


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one check produced: its status, a one-line summary, findings and metrics."""

    name: str
    """The check's name (`imports`, `database`, ...)."""
    status: Status
    """`pass`, `warn`, `fail`, `skip` or `timeout`."""
    summary: str = ""
    """One line for humans: what was checked, or why it was skipped."""
    findings: tuple[Finding, ...] = ()
    """What the check found, in the order it found it."""
    metrics: Mapping[str, MetricValue] = field(default_factory=lambda: _frozen_metrics(None))
    """Counters and timings the check measured (JSON-serialisable)."""
    duration_ms: int = 0
    """Wall time of the check, stamped by the runner."""

    def __post_init__(self) -> None:
        """Freeze the containers so a result cannot change after it is reported."""
        object.__setattr__(self, "findings", tuple(self.findings))
        object.__setattr__(self, "metrics", _frozen_metrics(self.metrics))

    @classmethod
    def from_findings(
        cls,
        name: str,
        findings: Iterable[Finding],
        summary: str = "",
        metrics: Mapping[str, MetricValue] | None = None,
    ) -> CheckResult:
        """Build a result whose status follows from its worst finding."""
        found = tuple(findings)
        severities = {f.severity for f in found}
        if Severity.ERROR in severities:
            status = Status.FAIL
        elif Severity.WARNING in severities:
            status = Status.WARN
        else:
            status = Status.PASS
        return cls(name, status, summary, found, _frozen_metrics(metrics))

    @classmethod
    def timed_out(
        cls, name: str, budget_ms: int, message: str | None = None, duration_ms: int = 0
    ) -> CheckResult:
        """A check (or the stage it waited on) cut off by the run's budget: its timeout code."""
        from preflight.durations import format_duration  # noqa: PLC0415 - only on timeouts

        budget = format_duration(budget_ms)
        what = f"{message} ({budget} budget)" if message else None
        finding = Finding(
            code=timeout_code(name),
            check=name,
            severity=Severity.ERROR,
            message=what or f"the {name} check did not finish within the {budget} budget",
            hint=f"raise --budget, or run `preflight check --only {name}` to see what it waits on",
        )
        summary = f"cut off at the {budget} budget"
        return cls(name, Status.TIMEOUT, summary, (finding,), duration_ms=duration_ms)

    @classmethod
    def skipped(cls, name: str, reason: str) -> CheckResult:
        """A check that did not run, and why (nothing configured, not selected, ...)."""
        return cls(name, Status.SKIP, reason)

    def stamped(self, duration_ms: int) -> CheckResult:
        """This result with the runner's measured duration."""
        return replace(self, duration_ms=duration_ms)

    @property
    def category(self) -> ExitCode:
        """The exit code of this check's own stage (used when it times out)."""
        return CHECK_EXIT_CODES[self.name]

    def failing_codes(self, *, strict: bool) -> list[int]:
        """Exit codes this result contributes: its findings' and, on timeout, its own."""
        codes = [f.exit_code for f in self.findings if f.fails(strict=strict)]
        if self.status is Status.TIMEOUT:
            codes.append(int(self.category))
        return codes

    def to_dict(self) -> dict[str, Any]:
        """The report's JSON shape of a check (findings are listed at the top level)."""
        return {
            "name": self.name,
            "status": self.status.value,
            "duration_ms": self.duration_ms,
            "summary": self.summary,
            "metrics": dict(self.metrics),
        }


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of a whole run: every check's result and the exit code they add up to."""

    checks: tuple[CheckResult, ...]
    """One result per known check, in boot order (unselected ones as `skip`)."""
    app: str | None
    """The configured entry, `module:attr`."""
    budget_ms: int
    """The hard deadline of the run."""
    duration_ms: int
    """Wall time of the run."""
    strict: bool = False
    """Whether warnings fail the run."""
    interrupted: ExitCode | None = None
    """Set when SIGINT/SIGTERM cut the run short."""

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding of every check, in check order."""
        return tuple(f for result in self.checks for f in result.findings)

    @property
    def exit_code(self) -> int:
        """The smallest failing category (the earliest boot stage), 0 when nothing failed."""
        if self.interrupted is not None:
            return int(self.interrupted)
        codes = [
            code for result in self.checks for code in result.failing_codes(strict=self.strict)
        ]
        return min(codes, default=int(ExitCode.OK))

    @property
    def status(self) -> Status:
        """`fail` when the exit code is not 0, `warn` when any check warned, else `pass`."""
        if self.exit_code != ExitCode.OK:
            return Status.FAIL
        if any(result.status is Status.WARN for result in self.checks):
            return Status.WARN
        return Status.PASS

    def to_dict(self) -> dict[str, Any]:
        """The `preflight.report/1` JSON object."""
        return {
            "schema": REPORT_SCHEMA,
            "version": __version__,
            "status": self.status.value,
            "exit_code": self.exit_code,
            "app": self.app,
            "budget_ms": self.budget_ms,
            "duration_ms": self.duration_ms,
            "checks": [result.to_dict() for result in self.checks],
            "findings": [finding.to_dict() for finding in self.findings],
        }
