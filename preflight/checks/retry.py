"""Retries inside the run's budget: exponential backoff with full jitter, never past the deadline.

A database behind a cold Cloud SQL instance or a VPC connector that is still coming up refuses
or stalls for a few seconds and then answers: retrying heals that, so transient errors are
retried until the budget is nearly spent. Permanent errors (a wrong password) never heal, so
they end the loop at once instead of waiting out the budget.

Policy (documented bounds):

- the delay before attempt n+1 is uniform in [0, min(cap, base * 2**(n-1))] ("full jitter",
  AWS architecture blog): with the defaults base 0.1 s and cap 2 s, the ceilings are 0.1, 0.2,
  0.4, 0.8, 1.6, 2, 2, ... seconds;
- each attempt's timeout is `min(attempt_timeout, time left - RESERVE_S)`;
- a delay that would leave less than `MIN_ATTEMPT_S` for the next attempt is shortened so the
  last attempt still fits; with no room left the loop stops and returns the last error, so the
  caller reports it before the runner cuts the check off at the deadline.

Sleeps go through the deadline's clock, so tests drive the schedule with a fake clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from preflight.clock import Deadline

T = TypeVar("T")

#: First backoff ceiling, seconds.
BASE_S = 0.1
#: Largest backoff ceiling, seconds.
CAP_S = 2.0
#: Time kept back from every attempt for reporting (the runner cancels at the deadline).
RESERVE_S = 0.05
#: No attempt starts with less than this left (after the reserve).
MIN_ATTEMPT_S = 0.05
#: Less room than this for a wait means the last attempt was the last one.
_NO_ROOM_S = 0.001


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter."""

    base: float = BASE_S
    """The first ceiling, seconds."""
    cap: float = CAP_S
    """The largest ceiling, seconds."""

    def ceiling(self, attempt: int) -> float:
        """The longest delay after attempt number `attempt` (1-based) failed."""
        exponent = min(max(attempt - 1, 0), 32)  # 2**32 * base is past any cap
        return min(self.cap, self.base * 2.0**exponent)

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """A delay drawn uniformly in [0, ceiling(attempt)] (`rand` returns [0, 1))."""
        return self.ceiling(attempt) * rand()


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """How a retried operation ended: its value or its last error, and what it took."""

    value: T | None
    """The operation's result, when an attempt succeeded."""
    error: Exception | None
    """The last attempt's error, when none succeeded."""
    attempts: int
    """How many attempts were started."""
    elapsed_s: float
    """Seconds from the first attempt to the end, on the deadline's clock."""
    gave_up: bool = False
    """True when a transient error was still failing as the budget ran out."""


async def retry(
    operation: Callable[[float], Awaitable[T]],
    *,
    deadline: Deadline,
    attempt_timeout: float,
    is_transient: Callable[[Exception], bool],
    backoff: Backoff | None = None,
    rand: Callable[[], float] = random.random,
) -> Outcome[T]:
    """Call `operation(timeout)` until it succeeds, fails permanently, or the budget ends.

    `operation` must itself honour the timeout it is given (raise on expiry). Never raises
    the operation's errors: they come back in the `Outcome`.
    """
    backoff = backoff or Backoff()
    clock = deadline.clock
    started = clock.monotonic()
    attempts = 0
    while True:
        timeout = _attempt_budget(deadline, attempt_timeout)
        attempts += 1
        try:
            value = await operation(timeout)
        except Exception as error:  # noqa: BLE001 - the caller classifies every error
            last = error
        else:
            return Outcome(value, None, attempts, clock.monotonic() - started)
        if not is_transient(last):
            return Outcome(None, last, attempts, clock.monotonic() - started)
        room = deadline.remaining() - RESERVE_S - MIN_ATTEMPT_S
        if room < _NO_ROOM_S:
            return Outcome(None, last, attempts, clock.monotonic() - started, gave_up=True)
        await clock.sleep(min(backoff.delay(attempts, rand), room))  # the last try still fits


def _attempt_budget(deadline: Deadline, attempt_timeout: float) -> float:
    """This attempt's timeout: the configured one, capped by the budget less the reserve."""
    return max(0.0, min(attempt_timeout, deadline.remaining() - RESERVE_S))
