"""The app check (exit 4): the real import of the entry, in a child, under the deadline.

It reads the `import` and `app` stages of the run's app-loading child
(`preflight.appload.session`) and turns them into findings: an ImportError anywhere in what
escaped the import is PF310 (exit 3, as gunicorn and uvicorn report it), other exceptions
PF401, a missing attribute PF402 with the closest names, an object that is no ASGI/WSGI app
PF403, a hang PF404, an exit PF405, a failing factory PF406, a dead child PF407; settings that
fail validation at import are PF501/PF502 (exit 5, naming the variables). The import-time
profile (`-X importtime`) is an info finding, PF408, and the check's metrics.
"""

from __future__ import annotations

import signal
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from preflight.appload.session import app_session
from preflight.checks.base import needs_app
from preflight.codes import ExitCode, Severity
from preflight.report import CheckResult, Finding, MetricValue

if TYPE_CHECKING:
    from collections.abc import Mapping

    from preflight.appload.importtime import ImportProfile
    from preflight.appload.session import ChildEnd, Stage
    from preflight.checks.base import CheckContext

#: Modules named in the PF408 message (all ten are in the metrics).
PROFILE_NAMED = 3


class AppCheck:
    """The entry object loads in a real interpreter: PF310, PF400-PF408, PF501/PF502."""

    name = "app"
    exit_code = ExitCode.APP

    def skip_reason(self, ctx: CheckContext) -> str | None:
        """Nothing to load without an entry."""
        return needs_app(ctx)

    async def run(self, ctx: CheckContext) -> CheckResult:
        """Await the child's import and app stages; on failure its end, for the output tail."""
        spec = str(ctx.config.app)
        session = app_session(ctx)
        imported = await session.stage("import")
        loaded = await session.stage("app")
        ok = loaded.payload is not None and bool(loaded.payload.get("ok"))
        findings: list[Finding] = []
        if not ok:
            end = await session.end()
            findings = load_failures(spec, imported, loaded, end)
        profile = await session.profile()
        metrics = app_metrics(imported, loaded, profile)
        if ok and profile is not None and profile.modules:  # a failed import's is partial
            findings.append(profile_finding(spec, profile))
        return CheckResult.from_findings(
            self.name, findings, summary_of(spec, loaded, findings), metrics
        )


# --- failures -------------------------------------------------------------------------------


def load_failures(spec: str, imported: Stage, loaded: Stage, end: ChildEnd) -> list[Finding]:
    """The findings of an app that did not load (the tail of its output attached)."""
    module, _, attr = spec.partition(":")
    attr = attr or "app"
    tail = end.output_tail or None
    if imported.payload is None:
        return [missing_finding("app", f"importing {module}", imported, end)]
    error = imported.payload.get("error")
    if not imported.payload.get("ok") and isinstance(error, dict):
        return exception_findings("app", error, f"importing {module}", "PF401", tail)
    if loaded.payload is None:
        return [missing_finding("app", f"loading {spec}", loaded, end)]
    problem = loaded.payload.get("error") or {}
    kind = problem.get("kind")
    if kind == "factory" and isinstance(problem.get("error"), dict):
        found = exception_findings("app", problem["error"], f"calling {attr}", "PF406", tail)
        required = problem.get("required_params")
        if required and problem["error"].get("type") == "TypeError":
            hint = (
                f"{attr.removesuffix('()')} needs {required} argument(s), but a factory is"
                " called with none (as uvicorn --factory does): give its parameters defaults,"
                " or point --app at a module-level app object"
            )
            found = [replace(f, hint=hint) if f.code == "PF406" else f for f in found]
        return found
    if kind == "attribute":
        return [attribute_finding(module, problem, tail)]
    return [not_app_finding(spec, problem, tail)]


def exception_findings(
    check: str, error: Mapping[str, Any], doing: str, code: str, tail: str | None
) -> list[Finding]:
    """An ExcInfo as findings: settings errors, an ImportError, a sys.exit, else `code`."""
    if error.get("settings_errors"):
        return settings_findings(check, error)
    frame = error.get("frame") or {}
    where: dict[str, Any] = {
        "module": frame.get("module"),
        "file": frame.get("file"),
        "line": frame.get("line"),
        "chain": tuple(error.get("chain") or ()),
        "output": tail,
    }
    raised = f"{error.get('type')}: {error.get('message')}"
    import_error = error.get("import_error")
    if isinstance(import_error, dict) and check == "app":
        return [import_finding(error, import_error, doing, where)]
    if error.get("exit_code") is not None:
        exit_code = error["exit_code"]
        return [
            Finding(
                code="PF405" if check == "app" else code,
                check=check,
                severity=Severity.ERROR,
                message=f"sys.exit({exit_code}) was called while {doing}",
                hint=f"module-level and start-up code must not exit: the server would stop with"
                f" exit code {exit_code} before serving; raise an exception or log instead",
                **where,
            )
        ]
    return [
        Finding(
            code=code,
            check=check,
            severity=Severity.ERROR,
            message=f"{doing} raised {raised}",
            hint=exception_hint(error),
            **where,
        )
    ]


def exception_hint(error: Mapping[str, Any]) -> str:
    """What to do about an exception at boot."""
    frame = error.get("frame") or {}
    at = f" at {frame['file']}:{frame['line']}" if frame.get("file") else ""
    if error.get("type") == "KeyError":
        return (
            f"a KeyError at start-up is usually a missing environment variable{at}: set"
            f" {error.get('message')} in the environment, or read it with os.environ.get()"
        )
    if at:
        return f"fix the code{at}: it runs at every boot, before the server can serve"
    return "the exception came from installed code: see the output tail and the chain"


def import_finding(
    error: Mapping[str, Any], import_error: Mapping[str, Any], doing: str, where: dict[str, Any]
) -> Finding:
    """PF310: an ImportError escaped the real import, directly or as a cause."""
    frame = import_error.get("frame")
    if isinstance(frame, dict):
        where = {**where, "file": frame.get("file"), "line": frame.get("line")}
        where["module"] = frame.get("module")
    name, source = import_error.get("name"), import_error.get("module")
    wrapped = error.get("type") != import_error.get("type")
    message = f"{doing} failed: {import_error.get('message')}"
    if wrapped:
        message = (
            f"{doing} raised {error.get('type')}: {error.get('message')},"
            f" caused by {import_error.get('type')}: {import_error.get('message')}"
        )
    if source:  # cannot import name X from Y
        where = {**where, "module": source}
        hint = f"check that {source!r} defines or re-exports {name!r} (renamed? moved?)"
        if "partially initialized" in str(import_error.get("message")):
            hint = f"{source!r} is part of a circular import: move the import into a function"
    else:
        top = str(name or "").split(".", 1)[0]
        hint = (
            f"is {top!r} installed in this image (requirements), or a first-party package"
            " missing from the roots (--root)? `preflight check --only imports` shows every"
            " broken import"
        )
    return Finding(
        code="PF310",
        check="app",
        severity=Severity.ERROR,
        message=message,
        name=name,
        hint=hint,
        **where,
    )


def settings_findings(check: str, error: Mapping[str, Any]) -> list[Finding]:
    """PF501/PF502 for settings that failed validation while `check`'s code ran."""
    from preflight.checks.settings import settings_findings as findings  # noqa: PLC0415

    frame = error.get("frame") or {}
    return findings(
        error.get("settings_errors") or (),
        error.get("settings_class"),
        check=check,
        file=frame.get("file"),
        line=frame.get("line"),
        chain=tuple(error.get("chain") or ()),
    )


def missing_finding(check: str, doing: str, stage: Stage, end: ChildEnd) -> Finding:
    """A stage the child never reported: the deadline, an exit, a crash."""
    tail = end.output_tail or None
    running = _running(end)
    if stage.missing == "deadline":
        return Finding(
            code="PF404" if check == "app" else "PF412",
            check=check,
            severity=Severity.ERROR,
            message=f"{doing} did not finish before the deadline (the child was {running};"
            " it was killed)",
            hint="something at start-up waits: a network call without a timeout, a lock, a"
            " sleep; see the output tail, or raise --budget",
            output=tail,
        )
    if stage.missing == "exited":
        code = end.returncode
        return Finding(
            code="PF405" if check == "app" else "PF410",
            check=check,
            severity=Severity.ERROR,
            message=f"the process exited with code {code} while {running}, without an"
            " exception (os._exit, or a C extension that exits)",
            hint="find the os._exit()/exit() call on that path; the server would exit the same",
            output=tail,
        )
    if end.start_error is not None:
        message = f"the app-loading child interpreter could not start: {end.start_error}"
    elif end.returncode is not None and end.returncode < 0:
        message = f"the app-loading child died from {_signal_name(-end.returncode)} while {running}"
    else:
        message = f"the app-loading child ended without reporting {stage.name} ({stage.missing})"
    return Finding(
        code="PF407" if check == "app" else "PF410",
        check=check,
        severity=Severity.ERROR,
        message=message,
        hint="a crash in a C extension, or the OOM killer; the output tail may say which",
        output=tail,
    )


def _running(end: ChildEnd) -> str:
    return {
        "settings": "instantiating the settings class",
        "import": "importing the entry module",
        "app": "resolving the app object (calling the factory)",
        "middleware": "reading the middleware stack",
        "lifespan": "running the lifespan",
        None: "starting up",
    }.get(end.stage, f"in stage {end.stage}")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def attribute_finding(module: str, problem: Mapping[str, Any], tail: str | None) -> Finding:
    """PF402: the module does not define the app attribute."""
    name = str(problem.get("name"))
    candidates = [str(c) for c in problem.get("candidates") or ()]
    if candidates:
        hint = f"did you mean {module}:{candidates[0]}?"
        if len(candidates) > 1:
            hint += f" (also defined: {', '.join(candidates[1:4])})"
    else:
        hint = "point --app at the module and attribute holding the ASGI/WSGI app object"
    return Finding(
        code="PF402",
        check="app",
        severity=Severity.ERROR,
        message=f"module {module!r} has no attribute {name!r}",
        module=module,
        name=name,
        hint=hint,
        output=tail,
    )


def not_app_finding(spec: str, problem: Mapping[str, Any], tail: str | None) -> Finding:
    """PF403: the object is neither an ASGI nor a WSGI app."""
    module, _, attr = spec.partition(":")
    kind = str(problem.get("type"))
    if problem.get("is_class"):
        hint = "it is a class: point --app at an instance of it (or at a factory with ())"
    elif problem.get("callable") and problem.get("required_params") == 0 and "(" not in attr:
        hint = f"it takes no arguments: if it is a factory, write {module}:{attr}()"
    else:
        hint = (
            "an ASGI app takes (scope, receive, send) and is async (FastAPI(), Starlette(),"
            " get_asgi_application()); a WSGI app takes (environ, start_response)"
        )
    return Finding(
        code="PF403",
        check="app",
        severity=Severity.ERROR,
        message=f"{spec} is a {kind}: neither an ASGI nor a WSGI app",
        module=module,
        name=attr.removesuffix("()") or "app",
        hint=hint,
        output=tail,
    )


# --- success: the profile -------------------------------------------------------------------


def profile_finding(spec: str, profile: ImportProfile) -> Finding:
    """PF408: what importing the app costs every cold start."""
    slowest = profile.slowest()[:PROFILE_NAMED]
    named = ", ".join(f"{item['module']} {item['cumulative_ms']} ms" for item in slowest)
    module = spec.partition(":")[0]
    return Finding(
        code="PF408",
        check="app",
        severity=Severity.INFO,
        message=f"importing {module} took {round(profile.total_us / 1000)} ms over"
        f" {profile.modules} modules; slowest: {named}",
        module=module,
        hint="every cold start pays this; the app check's metrics list the 10 slowest modules",
    )


def app_metrics(
    imported: Stage, loaded: Stage, profile: ImportProfile | None
) -> dict[str, MetricValue]:
    """The import's wall time, what the object is, and the import-time profile."""
    metrics: dict[str, MetricValue] = {}
    if imported.payload is not None and imported.payload.get("seconds") is not None:
        metrics["import_ms"] = round(float(imported.payload["seconds"]) * 1000)
    if loaded.payload is not None:
        metrics["kind"] = loaded.payload.get("kind")
        metrics["framework"] = loaded.payload.get("framework")
        metrics["type"] = loaded.payload.get("type")
        if loaded.payload.get("factory_seconds") is not None:
            metrics["factory_ms"] = round(float(loaded.payload["factory_seconds"]) * 1000)
    if profile is not None:
        metrics.update(profile.metrics())  # type: ignore[arg-type]
    return metrics


def summary_of(spec: str, loaded: Stage, findings: list[Finding]) -> str:
    """`service.main:app: fastapi app (ASGI)` or what failed."""
    failures = [f for f in findings if f.severity is Severity.ERROR]
    if failures:
        return f"{spec} did not load: {failures[0].code}"
    payload = loaded.payload or {}
    framework = payload.get("framework") or str(payload.get("type"))
    return f"{spec}: {framework} app ({str(payload.get('kind')).upper()})"
