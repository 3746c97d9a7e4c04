"""Helpers for testing checks and the runner, shipped with preflight (like `structlog.testing`).

`FakeClock` stands in for the system clock: time moves only when a test calls `advance`, so a
deadline of an hour is tested in microseconds and every duration is exact.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools


class FakeClock:
    """A clock whose time moves only on `advance`; `sleep` waits for virtual time."""

    def __init__(self, start: float = 1000.0) -> None:
        """Start at `start` seconds (any value: only differences matter)."""
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._changed = asyncio.Event()

    def monotonic(self) -> float:
        """The virtual time."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Wait until `advance` has moved the clock `seconds` further."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        self._changed.set()
        await future

    @property
    def sleepers(self) -> int:
        """How many `sleep` calls are waiting (cancelled ones excluded)."""
        return sum(1 for *_, future in self._sleepers if not future.done())

    async def wait_for_sleepers(self, count: int) -> None:
        """Let other tasks run until at least `count` of them wait on this clock."""
        while self.sleepers < count:
            self._changed.clear()
            await self._changed.wait()

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper that is due."""
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
