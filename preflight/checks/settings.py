"""The settings check (exit 5): the app's settings class validates against the real environment.

With `[tool.preflight.settings] class`, the app-loading child imports only that class's module
and instantiates the class first, before the app, so a broken app does not hide broken
settings. Each validation error is one finding naming the field, the environment variable to
set and the error type; never the value. Without a class, the BaseSettings subclasses the entry
reaches are listed (PF504, found statically; none is instantiated).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from preflight.codes import ExitCode, Severity
from preflight.report import CheckResult, Finding, MetricValue

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from preflight.appload.session import AppSession, Stage
    from preflight.checks.base import CheckContext
    from preflight.checks.settings_classes import Discovery

CHECK = "settings"
#: Errors a PF501/PF502 message spells out for a value the user must fix.
_VALUE_HINT = "the value is not shown: it may be a secret"


class SettingsCheck:
    """The settings class instantiated in the child: PF500-PF504."""

    name = CHECK
    exit_code = ExitCode.SETTINGS

    def skip_reason(self, ctx: CheckContext) -> str | None:
        """Nothing to do without a class to instantiate or an entry to search.

        `preflight run` (a container start) does not search: the list is information for
        `check`, CI and build steps, not worth a second import walk on every start.
        """
        if ctx.config.settings.class_:
            return None
        unset = "no settings class configured ([tool.preflight.settings] class)"
        if not ctx.config.app:
            return f"{unset} and no app to search"
        if ctx.command:
            return f"{unset}; `preflight check --only settings` lists the reachable ones"
        return None

    async def run(self, ctx: CheckContext) -> CheckResult:
        """Validate the configured class in the child, or list the reachable classes."""
        spec = ctx.config.settings.class_
        if spec is None:
            return await _discover(ctx)
        from preflight.appload.session import app_session  # noqa: PLC0415 - only this path

        session = app_session(ctx)
        stage = await session.stage("settings")
        if stage.payload is None:
            return await _without_payload(spec, stage, session, ctx.config.budget)
        return result_of(spec, stage.payload)


# --- the configured class --------------------------------------------------------------------


def result_of(spec: str, payload: Mapping[str, Any]) -> CheckResult:
    """The check's result from the child's `settings` payload."""
    file, line = _str(payload.get("file")), _int(payload.get("line"))
    metrics: dict[str, MetricValue] = {"class": spec}
    if isinstance(payload.get("fields"), int):
        metrics["fields"] = payload["fields"]
    load_error = payload.get("load_error")
    if isinstance(load_error, dict):
        finding = load_error_finding(spec, load_error, payload)
        return CheckResult.from_findings(CHECK, [finding], f"{spec} cannot be loaded", metrics)
    errors = [e for e in payload.get("errors") or [] if isinstance(e, dict)]
    raised_by = _str(payload.get("errors_class")) or spec
    findings = settings_findings(errors, raised_by, check=CHECK, file=file, line=line)
    metrics["errors"] = len(findings)
    if findings:
        missing = sum(1 for f in findings if f.code == "PF501")
        invalid = len(findings) - missing
        parts = [f"{missing} missing"] if missing else []
        parts += [f"{invalid} invalid"] if invalid else []
        summary = f"{raised_by}: {' and '.join(parts)} setting{'s' if len(findings) != 1 else ''}"
        return CheckResult.from_findings(CHECK, findings, summary, metrics)
    if payload.get("ok") is not True:
        finding = Finding(
            code="PF503",
            check=CHECK,
            severity=Severity.ERROR,
            message=f"the settings class {spec} could not be checked (the child sent no result)",
            hint="run `preflight check --only settings` again; if it persists, report it",
        )
        return CheckResult.from_findings(CHECK, [finding], f"{spec} not checked", metrics)
    fields = metrics.get("fields")
    counted = f" ({fields} field{'s' if fields != 1 else ''})" if isinstance(fields, int) else ""
    return CheckResult.from_findings(CHECK, [], f"{spec} validates{counted}", metrics)


def settings_findings(
    errors: Sequence[Mapping[str, Any]],
    settings_class: str | None,
    *,
    check: str = CHECK,
    file: str | None = None,
    line: int | None = None,
    chain: tuple[str, ...] = (),
) -> list[Finding]:
    """One PF501 (missing) or PF502 (invalid) finding per SettingsError.

    The app and lifespan checks use it too, for settings that fail while the app's code runs
    (`chain`: how the entry reached the failing module).
    """
    module = settings_class.partition(":")[0] if settings_class else None
    return [
        replace(
            _error_finding(error, settings_class, module, check=check, file=file, line=line),
            chain=chain,
        )
        for error in errors
    ]


def _error_finding(
    error: Mapping[str, Any],
    settings_class: str | None,
    module: str | None,
    *,
    check: str,
    file: str | None,
    line: int | None,
) -> Finding:
    field = _str(error.get("field")) or "(the model)"
    env = [str(name) for name in error.get("env") or [] if isinstance(name, str)]
    kind = _str(error.get("type")) or "invalid"
    msg = _str(error.get("msg"))
    of = f" of {settings_class}" if settings_class else ""
    others = f" (or {', '.join(env[1:])})" if len(env) > 1 else ""
    if kind == "missing":
        target = f"set {env[0]}{others}" if env else "give it a value"
        return Finding(
            code="PF501",
            check=check,
            severity=Severity.ERROR,
            message=f"required setting {field}{of} is missing: {target}",
            module=module,
            name=field,
            file=file,
            line=line,
            hint=f"set {env[0]} in the environment (or the .env file the class reads)"
            if env
            else "give the field a value or a default",
        )
    variable = f" ({env[0]}{others})" if env else ""
    detail = f": {msg}" if msg else ""
    if kind == "extra_forbidden":
        hint = f"remove {env[0] if env else field}, or set extra='ignore' in the model_config"
    else:
        hint = f"fix the value of {env[0]}; {_VALUE_HINT}" if env else _VALUE_HINT
    return Finding(
        code="PF502",
        check=check,
        severity=Severity.ERROR,
        message=f"setting {field}{of}{variable} is invalid: {kind}{detail}",
        module=module,
        name=field,
        file=file,
        line=line,
        hint=hint,
    )


def load_error_finding(
    spec: str, load_error: Mapping[str, Any], payload: Mapping[str, Any]
) -> Finding:
    """PF503: the module is missing or raises, the class is missing, or it is no BaseSettings."""
    module_name, _, class_name = spec.partition(":")
    kind = load_error.get("kind")
    error = load_error.get("error") if isinstance(load_error.get("error"), dict) else None
    candidates = [str(c) for c in load_error.get("candidates") or [] if isinstance(c, str)]
    file = line = None
    chain: tuple[str, ...] = ()
    if kind == "attribute":
        message = f"the settings class {spec} cannot be loaded: {module_name} has no {class_name!r}"
        hint = (
            f"did you mean {' or '.join(repr(c) for c in candidates[:3])}?" if candidates else None
        )
        hint = hint or f"check [tool.preflight.settings] class: {module_name} defines no such name"
    elif kind == "not_settings":
        what = _str(payload.get("type"))
        message = f"{spec} is not a pydantic-settings BaseSettings subclass"
        message += f" (it is a {what})" if what else ""
        hint = "point [tool.preflight.settings] class at the BaseSettings subclass"
        if candidates:
            hint += f"; {module_name} has {', '.join(candidates)}"
    else:
        said = _exception_text(error)
        if kind == "import":
            message = f"the settings module {module_name} cannot be imported: {said}"
            hint = "check [tool.preflight.settings] class and the roots (--root, PYTHONPATH)"
        else:
            message = f"the settings class {spec} cannot be loaded: {said}"
            hint = "the settings module (or the class) raised: fix the error at the place shown"
        frame = error.get("frame") if error else None
        if isinstance(frame, dict):
            file, line = _str(frame.get("file")), _int(frame.get("line"))
        chain = tuple(str(m) for m in (error or {}).get("chain") or [] if isinstance(m, str))
    return Finding(
        code="PF503",
        check=CHECK,
        severity=Severity.ERROR,
        message=message,
        module=module_name,
        name=class_name,
        file=file,
        line=line,
        chain=chain,
        hint=hint,
    )


def _exception_text(error: Mapping[str, Any] | None) -> str:
    if not error:
        return "it raised an exception"
    kind = _str(error.get("type")) or "Exception"
    message = _str(error.get("message"))
    if error.get("exit_code") is not None:
        return f"it called sys.exit({error.get('exit_code')})"
    return f"{kind}: {message}" if message else kind


async def _without_payload(
    spec: str, stage: Stage, session: AppSession, budget: int
) -> CheckResult:
    """The child sent no `settings` report: cut off by the deadline, or it died."""
    if stage.missing == "deadline":
        return CheckResult.timed_out(CHECK, budget, f"loading {spec} did not finish")
    if stage.missing in {"exited", "crashed"}:
        end = await session.end()
        how = f"exited with code {end.returncode}" if stage.missing == "exited" else "crashed"
        finding = Finding(
            code="PF503",
            check=CHECK,
            severity=Severity.ERROR,
            message=f"the settings class {spec} cannot be loaded: the app-loading child {how}"
            " while importing or instantiating it",
            module=spec.partition(":")[0],
            name=spec.partition(":")[2],
            hint="its module (or a validator) ended the process: see the output",
            output=end.output_tail or None,
        )
        return CheckResult.from_findings(CHECK, [finding], f"{spec} cannot be loaded")
    return CheckResult.skipped(CHECK, f"the settings stage did not run ({stage.missing})")


# --- no class configured ---------------------------------------------------------------------


async def _discover(ctx: CheckContext) -> CheckResult:
    from preflight.checks.settings_classes import discover  # noqa: PLC0415 - graph code

    found = await asyncio.get_running_loop().run_in_executor(None, discover, ctx.config)
    return discovery_result(found, ctx.config.app or "")


def discovery_result(found: Discovery, app: str) -> CheckResult:
    """PF504 (info) listing the reachable classes; skip when there is none."""
    entry = app.split(":", 1)[0]
    metrics: dict[str, MetricValue] = {
        "classes": [c.spec for c in found.classes],
        "modules": found.modules,
    }
    if not found.classes:
        return CheckResult.skipped(
            CHECK,
            "no settings class configured ([tool.preflight.settings] class) and no"
            f" BaseSettings subclass reachable from {entry}",
        )
    specs = ", ".join(c.spec for c in found.classes)
    first = found.classes[0]
    noun = "class" if len(found.classes) == 1 else "classes"
    finding = Finding(
        code="PF504",
        check=CHECK,
        severity=Severity.INFO,
        message=f"settings {noun} reachable from {entry} (not instantiated): {specs}",
        module=first.module,
        name=first.name,
        file=first.file,
        chain=first.chain,
        hint=f'set [tool.preflight.settings] class = "{first.spec}" to validate it at start-up',
    )
    summary = f"no settings class configured; {len(found.classes)} reachable: {specs}"
    return CheckResult.from_findings(CHECK, [finding], summary, metrics)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
