"""Time, injected: the runner and the checks read and wait through a `Clock`.

The system clock is `time.monotonic` and `asyncio.sleep`; tests pass
`preflight.testing.FakeClock`, so deadline logic is tested without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    """A monotonic clock that can also wait."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` on this clock."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        """`time.monotonic()`."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """`asyncio.sleep(seconds)`."""
        await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class Deadline:
    """The end of the run's budget on one clock; every wait inside a check is capped by it."""

    clock: Clock
    """The clock the deadline is measured on."""
    started: float
    """`clock.monotonic()` when the run started."""
    budget_s: float
    """Length of the budget in seconds."""

    @classmethod
    def start(cls, clock: Clock, budget_ms: int, *, started: float | None = None) -> Deadline:
        """A deadline `budget_ms` after `started` (a reading of `clock`; default: now)."""
        return cls(clock, clock.monotonic() if started is None else started, budget_ms / 1000)

    @property
    def at(self) -> float:
        """The clock reading at which the budget ends."""
        return self.started + self.budget_s

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - self.clock.monotonic())

    def elapsed_ms(self) -> int:
        """Whole milliseconds since the start."""
        return round((self.clock.monotonic() - self.started) * 1000)

    def cap(self, seconds: float) -> float:
        """`seconds`, or less if the budget ends sooner (a per-attempt timeout, say)."""
        return min(seconds, self.remaining())
