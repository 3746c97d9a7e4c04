"""The runner: every selected check at once, on one event loop, under one deadline.

At the deadline each unfinished check is cancelled and reported `timeout` with its own
stage's exit code. Cancelled checks get a short grace to unwind; one that ignores
cancellation is abandoned, not awaited. `execute` never joins executor threads (a DNS lookup
cannot be cancelled), so the caller can exit at once: see `preflight.__main__`.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import traceback
from typing import TYPE_CHECKING, Protocol

from preflight._version import __version__
from preflight.checks.base import CheckContext
from preflight.clock import Clock, Deadline, SystemClock
from preflight.codes import (
    CHECK_NAMES,
    INTERNAL_ERROR_CODE,
    OPT_IN_CHECKS,
    ExitCode,
    Severity,
)
from preflight.report import CheckResult, Finding, Report, Status

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from preflight.checks.base import Check
    from preflight.config import Config

#: Seconds a cancelled check may take to unwind before it is abandoned.
CANCEL_GRACE_S = 0.05
#: Checks that ignored cancellation. Held until the process exits: a task that is garbage
#: collected while pending makes asyncio print "Task was destroyed" on stderr, which would
#: break the one-JSON-object-per-line event log.
ABANDONED: list[asyncio.Future[object]] = []


class RunObserver(Protocol):
    """Told about results as they happen (the event log implements it)."""

    def check_finished(self, result: CheckResult) -> None:
        """A check ended (or was skipped)."""
        ...

    def check_crashed(self, check: str, error: BaseException) -> None:
        """A check raised: a bug in preflight, reported as PF7001 and exit 70."""
        ...


class _Silent:
    def check_finished(self, result: CheckResult) -> None:
        pass

    def check_crashed(self, check: str, error: BaseException) -> None:
        pass


async def run_checks(
    config: Config,
    registry: Sequence[Check],
    *,
    environ: Mapping[str, str],
    clock: Clock | None = None,
    observer: RunObserver | None = None,
    interrupt: asyncio.Future[ExitCode] | None = None,
    started: float | None = None,
    command: tuple[str, ...] = (),
) -> Report:
    """Run the selected checks of `registry` concurrently under `config.budget`.

    `started` (a reading of `clock`) is when the budget began: the process entry point passes
    its own start, so the budget bounds the whole process, imports included. `command` is the
    server command `run` will exec on pass (the bind check reads it).
    """
    clock = clock or SystemClock()
    observer = observer or _Silent()
    deadline = Deadline.start(clock, config.budget, started=started)
    ctx = CheckContext(config=config, deadline=deadline, environ=environ, command=command)
    by_name = {check.name: check for check in registry}
    selected = set(config.selected_checks())

    results: dict[str, CheckResult] = {}
    running: dict[asyncio.Task[CheckResult], str] = {}
    for name in CHECK_NAMES:
        skipped = _skip_reason(name, by_name.get(name), selected, ctx)
        if skipped is not None:
            results[name] = CheckResult.skipped(name, skipped)
            observer.check_finished(results[name])
        else:
            running[asyncio.ensure_future(_run_one(by_name[name], ctx, observer))] = name

    timer: asyncio.Future[object] = asyncio.ensure_future(clock.sleep(deadline.remaining()))
    stop_on: set[asyncio.Future[object]] = {timer}
    if interrupt is not None:
        stop_on.add(interrupt)  # type: ignore[arg-type]
    pending: set[asyncio.Future[object]] = set(running)  # type: ignore[arg-type]
    try:
        while pending and not any(future.done() for future in stop_on):
            done, _ = await asyncio.wait(pending | stop_on, return_when=asyncio.FIRST_COMPLETED)
            for task in done - stop_on:
                pending.discard(task)
                name = running[task]  # type: ignore[index]
                results[name] = task.result()  # type: ignore[assignment]
                observer.check_finished(results[name])
    finally:
        timer.cancel()

    interrupted = interrupt.result() if interrupt is not None and interrupt.done() else None
    if pending:
        await _cancel(pending, clock)
        for task in pending:
            name = running[task]  # type: ignore[index]
            if interrupted is not None:
                results[name] = CheckResult.skipped(name, f"interrupted by {interrupted.name}")
            else:
                results[name] = CheckResult.timed_out(
                    name, config.budget, duration_ms=deadline.elapsed_ms()
                )
            observer.check_finished(results[name])

    return Report(
        checks=tuple(results[name] for name in CHECK_NAMES),
        app=config.app,
        budget_ms=config.budget,
        duration_ms=deadline.elapsed_ms(),
        strict=config.strict,
        interrupted=interrupted,
    )


def _skip_reason(
    name: str, check: Check | None, selected: set[str], ctx: CheckContext
) -> str | None:
    if name not in selected:
        if name in OPT_IN_CHECKS and name not in ctx.config.skip:
            return f"opt-in: select it with --only {name}"
        return "not selected (--only/--skip)"
    if check is None:
        return f"not built yet in preflight {__version__}"
    return check.skip_reason(ctx)


async def _run_one(check: Check, ctx: CheckContext, observer: RunObserver) -> CheckResult:
    """Run one check, timing it on the run's clock; a crash becomes a PF7001 finding."""
    started = ctx.clock.monotonic()
    try:
        result = await check.run(ctx)
    except Exception as error:  # noqa: BLE001 - any crash of a check is reported, not raised
        observer.check_crashed(check.name, error)
        result = _crashed(check.name, error)
    return result.stamped(round((ctx.clock.monotonic() - started) * 1000))


def _crashed(name: str, error: Exception) -> CheckResult:
    crash = Finding(
        code=INTERNAL_ERROR_CODE,
        check=name,
        severity=Severity.ERROR,
        message=f"the {name} check crashed: {type(error).__name__}: {error}",
        hint="a bug in preflight: please report it with the preflight.internal_error event;"
        f" --skip {name} works around it",
    )
    return CheckResult(name, Status.FAIL, "crashed (internal error)", (crash,))


async def _cancel(pending: set[asyncio.Future[object]], clock: Clock) -> None:
    """Cancel `pending` and give them a bounded grace to unwind; never wait longer."""
    for task in pending:
        task.cancel()
    grace: asyncio.Future[object] = asyncio.ensure_future(clock.sleep(CANCEL_GRACE_S))
    try:
        waiting = set(pending)
        while waiting and not grace.done():
            done, _ = await asyncio.wait(waiting | {grace}, return_when=asyncio.FIRST_COMPLETED)
            waiting -= done
    finally:
        grace.cancel()
    for task in pending:
        if not task.done():
            ABANDONED.append(task)
        elif not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log "exception never retrieved"


def execute(
    config: Config,
    registry: Sequence[Check],
    *,
    environ: Mapping[str, str],
    clock: Clock | None = None,
    observer: RunObserver | None = None,
    started: float | None = None,
    command: tuple[str, ...] = (),
) -> Report:
    """Run the checks on a fresh event loop; SIGINT/SIGTERM cut the run short.

    Unlike `asyncio.run`, it does not join the default executor or wait for abandoned tasks
    when it closes the loop: a stuck resolver thread must not hold the process past the budget.
    """
    loop = asyncio.new_event_loop()
    try:
        interrupt: asyncio.Future[ExitCode] = loop.create_future()
        handled = _install_signal_handlers(loop, interrupt)
        try:
            return loop.run_until_complete(
                run_checks(
                    config,
                    registry,
                    environ=environ,
                    clock=clock,
                    observer=observer,
                    interrupt=interrupt,
                    started=started,
                    command=command,
                ),
            )
        finally:
            for signum in handled:
                loop.remove_signal_handler(signum)
    finally:
        _close_without_waiting(loop)


def _install_signal_handlers(
    loop: asyncio.AbstractEventLoop,
    interrupt: asyncio.Future[ExitCode],
) -> list[signal.Signals]:
    if threading.current_thread() is not threading.main_thread():
        return []
    codes = {signal.SIGINT: ExitCode.SIGINT, signal.SIGTERM: ExitCode.SIGTERM}

    def on_signal(code: ExitCode) -> None:
        if not interrupt.done():
            interrupt.set_result(code)

    for signum, code in codes.items():
        loop.add_signal_handler(signum, on_signal, code)
    return list(codes)


def _close_without_waiting(loop: asyncio.AbstractEventLoop) -> None:
    """Close the loop; abandoned tasks are dropped and executor threads are not joined."""
    for task in asyncio.all_tasks(loop):
        task.cancel()
    try:
        loop.run_until_complete(loop.shutdown_asyncgens())
    except Exception:  # noqa: BLE001 - closing must not mask the result
        traceback.print_exc()
    loop.close()
