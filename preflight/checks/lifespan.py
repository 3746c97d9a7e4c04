"""The lifespan check (opt-in, exit 4): the app's ASGI startup and shutdown, under the deadline.

For CI and build steps: real backends fail here after a clean import (a startup sequence that
raises, `cannot import name` inside a startup function, `sys.exit(3)` from a lifespan
handler). The run's app-loading child runs `lifespan.startup` then `lifespan.shutdown` on the
loaded app; this check turns its `lifespan` stage into PF410 (startup failed), PF411
(shutdown failed), PF412 (startup still running at the deadline) and PF413 (info: the app
does not speak lifespan, as uvicorn's `--lifespan auto` would find).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from preflight.appload.session import app_session
from preflight.checks.app import exception_findings, missing_finding, settings_findings
from preflight.checks.base import needs_app
from preflight.codes import ExitCode, Severity
from preflight.report import CheckResult, Finding, MetricValue

if TYPE_CHECKING:
    from collections.abc import Mapping

    from preflight.appload.session import ChildEnd, Stage
    from preflight.checks.base import CheckContext


class LifespanCheck:
    """ASGI lifespan startup and shutdown in the child: PF410-PF413."""

    name = "lifespan"
    exit_code = ExitCode.APP

    def skip_reason(self, ctx: CheckContext) -> str | None:
        """Nothing to start without an entry."""
        return needs_app(ctx)

    async def run(self, ctx: CheckContext) -> CheckResult:
        """Await the child's lifespan stage."""
        session = app_session(ctx)
        stage = await session.stage("lifespan")
        if stage.payload is None:
            end = await session.end()
            if end.stage != "lifespan" and stage.missing != "not planned":
                return self._not_loaded(ctx, end)
            findings = [lifespan_missing(stage, end)]
            return CheckResult.from_findings(self.name, findings, summary_of(findings))
        findings = payload_findings(stage.payload)
        if any(f.severity is Severity.ERROR for f in findings):
            tail = (await session.end()).output_tail or None
            findings = [_with_output(f, tail) for f in findings]
        return CheckResult.from_findings(
            self.name, findings, summary_of(findings), lifespan_metrics(stage.payload)
        )

    def _not_loaded(self, ctx: CheckContext, end: ChildEnd) -> CheckResult:
        """The app did not load: the app check says why; without it, say it here."""
        if "app" in ctx.config.selected_checks():
            return CheckResult.skipped(self.name, "the app did not load: see the app check")
        finding = Finding(
            code="PF410",
            check=self.name,
            severity=Severity.ERROR,
            message="lifespan startup did not run: the app did not load",
            hint="run `preflight check --only app,lifespan` to see why",
            output=end.output_tail or None,
        )
        return CheckResult.from_findings(self.name, [finding], "the app did not load")


def lifespan_missing(stage: Stage, end: ChildEnd) -> Finding:
    """The child was cut off (or died) inside the lifespan stage."""
    partial = stage.partial or {}
    startup = partial.get("startup") or {}
    if stage.missing == "deadline" and startup.get("ok"):
        return Finding(
            code="PF411",
            check="lifespan",
            severity=Severity.ERROR,
            message="lifespan shutdown did not finish before the deadline (the child was killed)",
            hint="a shutdown handler waits: close pools and clients with a timeout",
            output=end.output_tail or None,
        )
    doing = "lifespan shutdown" if startup.get("ok") else "lifespan startup"
    finding = missing_finding("lifespan", doing, stage, end)
    if stage.missing == "deadline":
        return Finding(
            code="PF412",
            check="lifespan",
            severity=Severity.ERROR,
            message="lifespan startup did not finish before the deadline (the child was killed)",
            hint="a startup handler waits: a connection without a timeout, a lock, a sleep;"
            " the server would never become ready. Or raise --budget",
            output=finding.output,
        )
    return finding


def payload_findings(payload: Mapping[str, Any]) -> list[Finding]:
    """The `lifespan` payload as findings."""
    if not payload.get("supported"):
        return [unsupported_finding(payload)]
    findings = []
    startup = payload.get("startup") or {}
    if not startup.get("ok"):
        findings += phase_findings("startup", "PF410", startup)
    shutdown = payload.get("shutdown")
    if isinstance(shutdown, dict) and not shutdown.get("ok"):
        findings += phase_findings("shutdown", "PF411", shutdown)
    return findings


def phase_findings(phase: str, code: str, outcome: Mapping[str, Any]) -> list[Finding]:
    """A failed startup or shutdown: its exception, its `*.failed` message, or its exit."""
    error = outcome.get("error")
    if isinstance(error, dict):
        if error.get("settings_errors"):
            return settings_findings("lifespan", error)
        if error.get("exit_code") is not None:
            frame = error.get("frame") or {}
            return [
                Finding(
                    code=code,
                    check="lifespan",
                    severity=Severity.ERROR,
                    message=f"lifespan.{phase}.failed: sys.exit({error['exit_code']}) was called",
                    module=frame.get("module"),
                    file=frame.get("file"),
                    line=frame.get("line"),
                    chain=tuple(error.get("chain") or ()),
                    hint=f"a lifespan handler must not exit: the server would stop with exit code"
                    f" {error['exit_code']}; raise an exception or log instead",
                )
            ]
        found = exception_findings("lifespan", error, f"lifespan {phase}", code, None)
        return [_prefixed(f, phase) for f in found]
    text = _last_line(outcome.get("message"))
    message = f"lifespan.{phase}.failed: {text}" if text else f"the app did not complete {phase}"
    return [
        Finding(
            code=code,
            check="lifespan",
            severity=Severity.ERROR,
            message=message,
            hint=f"the app's {phase} handlers failed; the output tail may say more",
        )
    ]


def _prefixed(finding: Finding, phase: str) -> Finding:
    if finding.code not in {"PF410", "PF411"}:
        return finding
    message = finding.message.replace(f"lifespan {phase} raised ", "", 1)
    return _replace(finding, message=f"lifespan.{phase}.failed: {message}")


def _with_output(finding: Finding, tail: str | None) -> Finding:
    if finding.severity is not Severity.ERROR or finding.output is not None:
        return finding
    return _replace(finding, output=tail)


def _replace(finding: Finding, **changes: Any) -> Finding:  # noqa: ANN401
    return replace(finding, **changes)


def _last_line(text: object) -> str | None:
    if not text:
        return None
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1] if lines else None


def unsupported_finding(payload: Mapping[str, Any]) -> Finding:
    """PF413: the app does not speak the lifespan protocol (info)."""
    if payload.get("reason") == "wsgi":
        message = "the app is a WSGI app: it has no ASGI lifespan"
    else:
        raised = payload.get("raised")
        why = f" (it raised {raised.get('type')} on the lifespan scope)" if raised else ""
        message = f"the app does not support the ASGI lifespan protocol{why}"
    return Finding(
        code="PF413",
        check="lifespan",
        severity=Severity.INFO,
        message=message,
        hint="uvicorn's --lifespan auto goes on without it; nothing ran at startup",
    )


def lifespan_metrics(payload: Mapping[str, Any]) -> dict[str, MetricValue]:
    """Startup and shutdown times."""
    metrics: dict[str, MetricValue] = {"supported": bool(payload.get("supported"))}
    for phase in ("startup", "shutdown"):
        outcome = payload.get(phase)
        if isinstance(outcome, dict) and outcome.get("ms") is not None:
            metrics[f"{phase}_ms"] = int(outcome["ms"])
    return metrics


def summary_of(findings: list[Finding]) -> str:
    """One line: what failed, or that startup and shutdown completed."""
    failures = [f for f in findings if f.severity is Severity.ERROR]
    if failures:
        return failures[0].message
    if findings:
        return "lifespan not supported by the app"
    return "startup and shutdown completed"
