"""The console report: what failed, where, how the entry reaches it, and what to do.

Modelled on Spring Boot's "APPLICATION FAILED TO START / Description / Action": a table of
checks, then each finding with its location, its chain one hop per line and its hint, then a
verdict naming the exit code. Plain ASCII, so a C-locale container prints it too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import click

from preflight._version import __version__
from preflight.codes import EXIT_CODE_MEANINGS, ExitCode, Severity
from preflight.durations import format_duration
from preflight.report import CheckResult, Finding, Report, Status

if TYPE_CHECKING:
    from collections.abc import Iterator

_STATUS_COLOURS = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "red",
    Status.TIMEOUT: "red",
    Status.SKIP: "bright_black",
}
_SEVERITY_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_RULE = "*" * 40


def render_console(report: Report, *, color: bool = False) -> str:
    """The whole console report as one string (colours only when `color`)."""

    def style(text: str, fg: str | None = None, *, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold) if color else text

    return "\n".join(_lines(report, style)) + "\n"


def _lines(report: Report, style: _Style) -> Iterator[str]:
    app = report.app or "(no app configured)"
    yield style(f"preflight {__version__}", bold=True) + (
        f"  app {app}  budget {format_duration(report.budget_ms)}  took {report.duration_ms} ms"
    )
    yield ""
    width = max(len(result.name) for result in report.checks)
    for result in report.checks:
        yield _check_line(result, width, style)
    for result in report.checks:
        if result.findings:
            yield ""
            yield style(f"{result.name}:", bold=True)
            for finding in result.findings:
                yield from _finding_lines(finding, style)
    yield ""
    yield from _verdict(report, style)


def _check_line(result: CheckResult, width: int, style: _Style) -> str:
    status = style(f"{result.status.value.upper():<7}", _STATUS_COLOURS[result.status], bold=True)
    took = f"{result.duration_ms:>6} ms" if result.status is not Status.SKIP else " " * 9
    summary = (
        style(result.summary, "bright_black") if result.status is Status.SKIP else result.summary
    )
    return f"  {status} {result.name:<{width}}  {took}  {summary}".rstrip()


def _finding_lines(finding: Finding, style: _Style) -> Iterator[str]:
    label = f"{finding.code} {finding.severity.value}"
    yield f"  {style(label, _SEVERITY_COLOURS[finding.severity], bold=True)}: {finding.message}"
    if finding.file is not None:
        location = f"{finding.file}:{finding.line}" if finding.line is not None else finding.file
        yield f"      at {location}"
    if finding.chain:
        yield "      chain:"
        for depth, hop in enumerate(finding.chain):
            yield f"        {'-> ' if depth else ''}{hop}"
    if finding.hint:
        yield f"      {style('hint:', bold=True)} {finding.hint}"
    if finding.output:
        yield "      output (last lines):"
        for line in finding.output.splitlines():
            yield f"        | {line}"


def _verdict(report: Report, style: _Style) -> Iterator[str]:
    code = report.exit_code
    counts = _counts(report)
    if code == ExitCode.OK:
        word = "PASSED with warnings" if report.status is Status.WARN else "PASSED"
        yield style(f"PREFLIGHT {word}", "green", bold=True) + f"  ({counts})"
        return
    meaning = EXIT_CODE_MEANINGS.get(ExitCode(code), "") if code in set(ExitCode) else ""
    yield style(_RULE, "red")
    yield style(f"PREFLIGHT FAILED: exit {code}", "red", bold=True) + (
        f" ({meaning})" if meaning else ""
    )
    yield style(_RULE, "red")
    yield f"  {counts}"


def _counts(report: Report) -> str:
    by_status: dict[Status, int] = {}
    for result in report.checks:
        by_status[result.status] = by_status.get(result.status, 0) + 1
    ran = sum(n for status, n in by_status.items() if status is not Status.SKIP)
    parts = [f"{ran} check{'' if ran == 1 else 's'} ran"] + [
        f"{n} {status.value}" for status, n in by_status.items() if n and status is not Status.PASS
    ]
    return ", ".join(parts)


class _Style(Protocol):
    """The local `style` helper: colour when asked, plain text otherwise."""

    def __call__(self, text: str, fg: str | None = None, *, bold: bool = False) -> str:
        """Return `text`, styled."""
        ...
