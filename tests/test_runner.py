"""The runner under a fake clock: concurrency, the deadline, cancellation, skips, crashes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest
from samples import CheckDouble

from preflight.codes import CHECK_EXIT_CODES, ExitCode, Severity
from preflight.config import Config
from preflight.report import CheckResult, Finding, Status
from preflight.runner import CANCEL_GRACE_S, run_checks
from preflight.testing import FakeClock

if TYPE_CHECKING:
    from collections.abc import Callable

    from preflight.checks.base import CheckContext


@dataclass
class Sleeper(CheckDouble):
    """A check that waits on the run's clock, then reports `findings`."""

    seconds: float = 0
    findings: tuple[Finding, ...] = ()
    skip: str | None = None
    started_at: list[float] = field(default_factory=list)

    def skip_reason(self, ctx: CheckContext) -> str | None:
        return self.skip

    async def run(self, ctx: CheckContext) -> CheckResult:
        self.started_at.append(ctx.clock.monotonic())
        await ctx.clock.sleep(self.seconds)
        return CheckResult.from_findings(self.name, self.findings, f"slept {self.seconds}s")


@dataclass
class Stubborn(CheckDouble):
    """A check that swallows its first cancellation (a badly written check or library)."""

    name: str = "services"
    cancellations: int = 0

    async def run(self, ctx: CheckContext) -> CheckResult:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancellations += 1
        await asyncio.Event().wait()  # waits on; a second cancellation ends it
        raise AssertionError


@dataclass
class Crasher(CheckDouble):
    name: str = "settings"

    async def run(self, ctx: CheckContext) -> CheckResult:
        msg = "boom with postgresql://app:hunter2@db/app"
        raise RuntimeError(msg)


@dataclass
class Recorder:
    finished: list[CheckResult] = field(default_factory=list)
    crashed: list[tuple[str, BaseException]] = field(default_factory=list)

    def check_finished(self, result: CheckResult) -> None:
        self.finished.append(result)

    def check_crashed(self, check: str, error: BaseException) -> None:
        self.crashed.append((check, error))


def config(**values: object) -> Config:
    return Config.model_validate({"budget": "10s", **values})


def by_name(report_checks: tuple[CheckResult, ...]) -> dict[str, CheckResult]:
    return {result.name: result for result in report_checks}


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run until `condition` holds (bounded: a broken runner fails, not hangs)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    pytest.fail("condition never became true")


@pytest.mark.asyncio
async def test_checks_run_concurrently_from_time_zero_and_are_timed_on_the_clock() -> None:
    clock, recorder = FakeClock(), Recorder()
    fast, slow = Sleeper("imports", 2), Sleeper("database", 5)
    run = asyncio.ensure_future(
        run_checks(config(), [fast, slow], environ={}, clock=clock, observer=recorder)
    )
    await clock.wait_for_sleepers(3)  # both checks and the deadline timer
    assert fast.started_at == slow.started_at == [clock.monotonic()]
    clock.advance(2)
    await until(lambda: any(r.name == "imports" for r in recorder.finished))
    assert not run.done()
    clock.advance(3)
    report = await run
    results = by_name(report.checks)
    assert results["imports"].duration_ms == 2000
    assert results["database"].duration_ms == 5000
    assert report.duration_ms == 5000
    assert report.exit_code == 0
    assert report.status is Status.PASS


@pytest.mark.asyncio
async def test_deadline_cancels_unfinished_checks_and_reports_timeout_with_their_own_code() -> None:
    clock = FakeClock()
    checks = [Sleeper("imports", 0.5), Sleeper("database", 3600), Sleeper("services", 3600)]
    run = asyncio.ensure_future(run_checks(config(budget="1s"), checks, environ={}, clock=clock))
    await clock.wait_for_sleepers(4)
    clock.advance(0.5)
    await clock.wait_for_sleepers(3)
    clock.advance(0.5)
    report = await run
    results = by_name(report.checks)
    assert results["imports"].status is Status.PASS
    for name, code in (("database", "PF700"), ("services", "PF800")):
        assert results[name].status is Status.TIMEOUT
        assert results[name].duration_ms == 1000
        assert [f.code for f in results[name].findings] == [code]
        assert "1s budget" in results[name].findings[0].message
    assert report.exit_code == ExitCode.DATABASE  # the smallest of 7 and 8
    assert report.duration_ms == 1000


@pytest.mark.asyncio
async def test_a_check_that_swallows_cancellation_is_abandoned_after_the_grace() -> None:
    clock = FakeClock()
    stubborn = Stubborn()
    run = asyncio.ensure_future(
        run_checks(config(budget="1s"), [stubborn], environ={}, clock=clock)
    )
    await clock.wait_for_sleepers(1)
    clock.advance(1)
    await clock.wait_for_sleepers(1)  # the grace timer
    assert not run.done()
    clock.advance(CANCEL_GRACE_S)
    report = await run
    assert stubborn.cancellations == 1
    assert by_name(report.checks)["services"].status is Status.TIMEOUT
    assert report.exit_code == ExitCode.SERVICES
    abandoned = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    assert len(abandoned) == 1  # still alive: the runner did not wait for it
    abandoned[0].cancel()
    await asyncio.gather(*abandoned, return_exceptions=True)


@pytest.mark.asyncio
async def test_a_crashing_check_becomes_pf7001_and_exit_70_and_is_observed() -> None:
    recorder = Recorder()
    report = await run_checks(
        config(), [Crasher()], environ={}, clock=FakeClock(), observer=recorder
    )
    result = by_name(report.checks)["settings"]
    assert result.status is Status.FAIL
    assert [f.code for f in result.findings] == ["PF7001"]
    assert "RuntimeError" in result.findings[0].message
    assert "hunter2" not in result.findings[0].message
    assert report.exit_code == ExitCode.INTERNAL
    assert [name for name, _ in recorder.crashed] == ["settings"]
    assert isinstance(recorder.crashed[0][1], RuntimeError)


@pytest.mark.asyncio
async def test_a_real_failure_outranks_an_internal_error() -> None:
    broken = Finding("PF301", "imports", Severity.ERROR, "No module named 'auth_service'")
    report = await run_checks(
        config(), [Crasher(), Sleeper("imports", 0, (broken,))], environ={}, clock=FakeClock()
    )
    assert report.exit_code == ExitCode.IMPORTS


@pytest.mark.asyncio
async def test_skip_reasons_unselected_unbuilt_unconfigured_and_opt_in() -> None:
    recorder = Recorder()
    checks = [Sleeper("imports", 0), Sleeper("database", 0, skip="no DSN configured")]
    report = await run_checks(
        config(skip="services"), checks, environ={}, clock=FakeClock(), observer=recorder
    )
    results = by_name(report.checks)
    assert results["imports"].status is Status.PASS
    assert results["database"].status is Status.SKIP
    assert results["database"].summary == "no DSN configured"
    assert results["services"].summary == "not selected (--only/--skip)"
    assert results["app"].summary.startswith("not built yet")
    assert results["lifespan"].summary == "opt-in: select it with --only lifespan"
    assert report.exit_code == 0
    assert sorted(r.name for r in recorder.finished) == sorted(results)


@pytest.mark.asyncio
async def test_only_selects_and_skipped_checks_never_start() -> None:
    imports, database = Sleeper("imports", 0), Sleeper("database", 0)
    report = await run_checks(
        config(only="database"), [imports, database], environ={}, clock=FakeClock()
    )
    assert imports.started_at == []
    assert database.started_at != []
    assert by_name(report.checks)["imports"].status is Status.SKIP


@pytest.mark.asyncio
async def test_report_lists_every_known_check_in_boot_order() -> None:
    report = await run_checks(config(), [], environ={}, clock=FakeClock())
    assert tuple(r.name for r in report.checks) == tuple(CHECK_EXIT_CODES)


@pytest.mark.asyncio
async def test_strict_turns_a_warning_into_its_exit_code() -> None:
    warning = Finding("PF301", "imports", Severity.WARNING, "lazy import of a missing module")
    checks = [Sleeper("imports", 0, (warning,))]
    relaxed = await run_checks(config(), checks, environ={}, clock=FakeClock())
    strict = await run_checks(config(strict=True), checks, environ={}, clock=FakeClock())
    assert (relaxed.exit_code, relaxed.status) == (0, Status.WARN)
    assert (strict.exit_code, strict.status) == (3, Status.FAIL)


@pytest.mark.asyncio
async def test_an_interrupt_cancels_everything_and_names_the_signal() -> None:
    clock = FakeClock()
    interrupt: asyncio.Future[ExitCode] = asyncio.get_running_loop().create_future()
    checks = [Sleeper("database", 3600)]
    run = asyncio.ensure_future(
        run_checks(config(), checks, environ={}, clock=clock, interrupt=interrupt)
    )
    await clock.wait_for_sleepers(2)
    interrupt.set_result(ExitCode.SIGTERM)
    report = await run
    assert report.exit_code == 143
    assert by_name(report.checks)["database"].summary == "interrupted by SIGTERM"


@pytest.mark.asyncio
async def test_shared_work_runs_once_for_all_checks() -> None:
    calls: list[int] = []

    async def load_app() -> str:
        calls.append(1)
        return "app"

    @dataclass
    class UsesShared(CheckDouble):
        seen: list[str] = field(default_factory=list)

        async def run(self, ctx: CheckContext) -> CheckResult:
            self.seen.append(await ctx.shared("child", load_app))
            return CheckResult.from_findings(self.name, ())

    checks = [UsesShared("app"), UsesShared("settings"), UsesShared("middleware")]
    await run_checks(config(), checks, environ={}, clock=FakeClock())
    assert calls == [1]
    assert [c.seen for c in checks] == [["app"], ["app"], ["app"]]


@pytest.mark.asyncio
async def test_deadline_caps_waits_inside_a_check() -> None:
    clock = FakeClock()
    caps: list[float] = []

    @dataclass
    class Capped(CheckDouble):
        name: str = "database"

        async def run(self, ctx: CheckContext) -> CheckResult:
            caps.append(ctx.deadline.cap(5))
            await ctx.clock.sleep(1.5)
            caps.append(ctx.deadline.cap(5))
            return CheckResult.from_findings(self.name, ())

    run = asyncio.ensure_future(
        run_checks(config(budget="2s"), [Capped()], environ={}, clock=clock)
    )
    await clock.wait_for_sleepers(2)
    clock.advance(1.5)
    await run
    assert caps == [2.0, 0.5]
