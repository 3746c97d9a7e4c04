"""The middleware check (exit 6): the real stack of the loaded app against the policy.

The app-loading child reads the stack, outermost first (Starlette/FastAPI `user_middleware`
and mounted sub-apps; Django `MIDDLEWARE`); `preflight.middleware_policy` judges it: the
user's `[tool.preflight.middleware]` policy as errors, the built-in rules as warnings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from preflight.checks.base import needs_app
from preflight.codes import ExitCode, Severity
from preflight.report import CheckResult, Finding, MetricValue

if TYPE_CHECKING:
    from collections.abc import Mapping

    from preflight.appload.session import AppSession, Stage
    from preflight.checks.base import CheckContext
    from preflight.middleware_policy import Entry, Policy

CHECK = "middleware"


class MiddlewareCheck:
    """The middleware stack: PF600-PF607."""

    name = CHECK
    exit_code = ExitCode.MIDDLEWARE

    def skip_reason(self, ctx: CheckContext) -> str | None:
        """The stack is read from the loaded app: nothing to read without one."""
        return needs_app(ctx)

    async def run(self, ctx: CheckContext) -> CheckResult:
        """Wait for the child's `middleware` report and judge it."""
        from preflight.appload.session import app_session  # noqa: PLC0415 - only this path
        from preflight.middleware_policy import Policy  # noqa: PLC0415 - not on `run`'s path

        policy = Policy.from_config(ctx.config.middleware)
        session = app_session(ctx)
        stage = await session.stage("middleware")
        if stage.payload is None:
            loaded = await session.stage("app")
            if loaded.payload is None or not loaded.payload.get("ok"):
                return await _app_not_loaded(ctx, session, policy)
            return await _without_payload(stage, session, policy, ctx.config.budget)
        return result_of(stage.payload, policy)


def result_of(payload: Mapping[str, Any], policy: Policy) -> CheckResult:
    """The check's result from the child's `middleware` payload."""
    from preflight.middleware_policy import all_findings, entries  # noqa: PLC0415

    reason = payload.get("reason")
    framework = payload.get("framework") if isinstance(payload.get("framework"), str) else None
    if isinstance(reason, str) and reason:
        return unreadable(policy, f"the middleware stack cannot be read: {reason}")
    stack = entries(payload.get("stack"))
    mounts = [
        (str(mount.get("path") or "/"), entries(mount.get("stack")))
        for mount in payload.get("mounts") or []
        if isinstance(mount, dict)
    ]
    findings = all_findings(stack, framework, policy, mounts)
    metrics: dict[str, MetricValue] = {
        "framework": framework,
        "stack": [entry.label for entry in stack],
        "mounts": {path: [entry.label for entry in mounted] for path, mounted in mounts},
        "policy": policy.configured,
    }
    return CheckResult.from_findings(CHECK, findings, summary_of(stack, framework, mounts), metrics)


def summary_of(
    stack: list[Entry], framework: str | None, mounts: list[tuple[str, list[Entry]]]
) -> str:
    """`4 middleware, outermost first: A -> B -> C -> D; 1 mounted sub-app`."""
    from preflight.middleware_policy import render  # noqa: PLC0415

    count = f"{len(stack)} middleware"
    if not stack:
        summary = f"{count} ({framework or 'unknown framework'})"
    else:
        summary = f"{count}, outermost first: {render(stack)}"
    if mounts:
        summary += f"; {len(mounts)} mounted sub-app{'s' if len(mounts) != 1 else ''}"
    return summary


def unreadable(policy: Policy, reason: str) -> CheckResult:
    """PF607 when a policy needs the stack; otherwise a skip with the reason."""
    if not policy.configured:
        return CheckResult.skipped(CHECK, reason)
    finding = Finding(
        code="PF607",
        check=CHECK,
        severity=Severity.ERROR,
        message=f"a middleware policy is configured but {reason.removeprefix('the ')}",
        hint="fix what keeps the app from loading (see the app check), or point"
        " [tool.preflight.middleware] django_settings / DJANGO_SETTINGS_MODULE at the settings",
    )
    return CheckResult.from_findings(CHECK, [finding], "the stack cannot be read")


async def _app_not_loaded(ctx: CheckContext, session: AppSession, policy: Policy) -> CheckResult:
    """The app did not load (it raised, hung, exited), so there is no stack to read.

    SPEC: selecting middleware implies loading the app, which `app` reports. With the app
    check selected it does, and this check is a skip; without it (`--only middleware`) this
    check reports the app's own failure, never a pass on an app that cannot boot.
    """
    if "app" in ctx.config.selected_checks():
        return CheckResult.skipped(CHECK, "the app did not load (the app check says why)")
    from preflight.checks.app import load_failures  # noqa: PLC0415 - only this path

    imported, loaded = await session.stage("import"), await session.stage("app")
    findings = load_failures(str(ctx.config.app), imported, loaded, await session.end())
    unread = unreadable(policy, "the middleware stack cannot be read: the app did not load")
    findings += unread.findings  # PF607 when a policy is set
    return CheckResult.from_findings(CHECK, findings, f"the app did not load: {findings[0].code}")


async def _without_payload(
    stage: Stage, session: AppSession, policy: Policy, budget: int
) -> CheckResult:
    """The app loaded, but the middleware stage itself was cut off or ended the child."""
    if stage.missing == "deadline":
        return CheckResult.timed_out(CHECK, budget, "reading the middleware stack did not finish")
    if stage.missing in {"exited", "crashed"}:
        end = await session.end()
        how = f"exited with code {end.returncode}" if stage.missing == "exited" else "crashed"
        result = unreadable(
            policy, f"the middleware stack cannot be read: the app-loading child {how}"
        )
        if result.findings and end.output_tail:
            from dataclasses import replace  # noqa: PLC0415

            with_output = replace(result.findings[0], output=end.output_tail)
            return CheckResult.from_findings(CHECK, [with_output], result.summary)
        return result
    return CheckResult.skipped(CHECK, f"the middleware stage did not run ({stage.missing})")
