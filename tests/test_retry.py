"""The retry schedule under a fake clock: full jitter bounds, the budget, permanent errors."""

from __future__ import annotations

import asyncio

import pytest

from preflight.checks.retry import MIN_ATTEMPT_S, RESERVE_S, Backoff, retry
from preflight.clock import Deadline
from preflight.testing import FakeClock


class TransientError(Exception):
    pass


class PermanentError(Exception):
    pass


def is_transient(error: Exception) -> bool:
    return isinstance(error, TransientError)


class Flaky:
    """Fails `failures` times with `error`, then answers; records each attempt's timeout."""

    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or TransientError("refused")
        self.timeouts: list[float] = []

    async def __call__(self, limit_s: float) -> str:
        self.timeouts.append(limit_s)
        if len(self.timeouts) <= self.failures:
            raise self.error
        return "ok"


async def drive(clock: FakeClock, work: asyncio.Task[object]) -> list[float]:
    """Advance the fake clock by each sleep the work makes; returns the sleeps seen."""
    slept: list[float] = []
    while not work.done():
        waiter = asyncio.ensure_future(clock.wait_for_sleepers(1))
        await asyncio.wait({waiter, work}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if work.done():
            break
        due = clock._sleepers[0][0] - clock.monotonic()  # noqa: SLF001 - the next wake-up
        slept.append(due)
        clock.advance(due)
    return slept


def test_backoff_ceilings_double_up_to_the_cap() -> None:
    backoff = Backoff(base=0.1, cap=2.0)
    assert [backoff.ceiling(n) for n in range(1, 8)] == pytest.approx(
        [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    )
    assert backoff.ceiling(10_000) == 2.0


def test_full_jitter_spans_zero_to_the_ceiling() -> None:
    backoff = Backoff()
    assert backoff.delay(3, lambda: 0.0) == 0.0
    assert backoff.delay(3, lambda: 0.5) == pytest.approx(0.2)
    assert backoff.delay(3, lambda: 0.999) < backoff.ceiling(3)


@pytest.mark.asyncio
async def test_transient_errors_are_retried_until_success() -> None:
    clock = FakeClock()
    deadline = Deadline.start(clock, 10_000)
    op = Flaky(failures=3)
    work = asyncio.ensure_future(
        retry(op, deadline=deadline, attempt_timeout=5, is_transient=is_transient, rand=lambda: 1)
    )
    slept = await drive(clock, work)
    outcome = work.result()
    assert outcome.value == "ok"
    assert outcome.attempts == 4
    assert slept == pytest.approx([0.1, 0.2, 0.4])
    assert outcome.elapsed_s == pytest.approx(0.7)


@pytest.mark.asyncio
async def test_a_permanent_error_ends_the_loop_at_once() -> None:
    clock = FakeClock()
    deadline = Deadline.start(clock, 10_000)
    op = Flaky(failures=5, error=PermanentError("bad password"))
    outcome = await retry(op, deadline=deadline, attempt_timeout=5, is_transient=is_transient)
    assert outcome.attempts == 1
    assert isinstance(outcome.error, PermanentError)
    assert not outcome.gave_up
    assert clock.sleepers == 0


@pytest.mark.asyncio
async def test_the_loop_stops_before_the_deadline_and_returns_the_last_error() -> None:
    clock = FakeClock()
    deadline = Deadline.start(clock, 3_000)
    op = Flaky(failures=1_000)
    work = asyncio.ensure_future(
        retry(op, deadline=deadline, attempt_timeout=5, is_transient=is_transient, rand=lambda: 1)
    )
    slept = await drive(clock, work)
    outcome = work.result()
    assert outcome.gave_up
    assert isinstance(outcome.error, TransientError)
    assert outcome.attempts == len(slept) + 1
    # never sleeps into the reserve, never starts an attempt with less than the minimum left,
    # and uses the budget: the last wait is shortened so one more attempt still fits
    epsilon = 1e-9
    assert deadline.remaining() >= RESERVE_S + MIN_ATTEMPT_S - epsilon
    assert deadline.remaining() < RESERVE_S + MIN_ATTEMPT_S + 0.001
    assert all(limit >= MIN_ATTEMPT_S - epsilon for limit in op.timeouts)


@pytest.mark.asyncio
async def test_each_attempt_timeout_is_capped_by_the_budget() -> None:
    clock = FakeClock()
    deadline = Deadline.start(clock, 1_000)
    op = Flaky(failures=0)
    await retry(op, deadline=deadline, attempt_timeout=5, is_transient=is_transient)
    assert op.timeouts == [pytest.approx(1.0 - RESERVE_S)]

    roomy = Flaky(failures=0)
    await retry(
        roomy, deadline=Deadline.start(clock, 60_000), attempt_timeout=2, is_transient=is_transient
    )
    assert roomy.timeouts == [2]


@pytest.mark.asyncio
async def test_jittered_sleeps_stay_within_their_ceilings() -> None:
    clock = FakeClock()
    deadline = Deadline.start(clock, 30_000)
    op = Flaky(failures=8)
    work = asyncio.ensure_future(
        retry(op, deadline=deadline, attempt_timeout=5, is_transient=is_transient)
    )
    slept = await drive(clock, work)
    backoff = Backoff()
    assert work.result().attempts == 9
    assert all(0 <= s <= backoff.ceiling(n) for n, s in enumerate(slept, start=1))
