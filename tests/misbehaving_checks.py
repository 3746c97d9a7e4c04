"""Run preflight's real entry point with misbehaving checks in its registry.

`CHECKS="database=sleeps,services=thread" python tests/misbehaving_checks.py check --budget 1s`
puts a check of each named kind under each check name. Used by tests/test_process.py and
benchmarks/deadline.py: everything but the checks is the real program.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
import sys
import time
from typing import Any

import preflight.checks
from preflight.__main__ import main
from preflight.codes import CHECK_EXIT_CODES, Severity
from preflight.report import CheckResult, Finding


class Base:
    def __init__(self, name: str) -> None:
        self.name = name
        self.exit_code = CHECK_EXIT_CODES[name]

    def skip_reason(self, ctx: Any) -> None:
        return None

    def started(self) -> None:
        marker = os.environ.get("MARKER")
        if marker:
            pathlib.Path(marker).write_text("started")


class Sleeps(Base):
    async def run(self, ctx: Any) -> CheckResult:
        self.started()
        await asyncio.sleep(3600)
        raise AssertionError


class BlocksAThread(Base):
    """Like asyncpg's hostname resolution: an executor thread nobody can cancel."""

    async def run(self, ctx: Any) -> CheckResult:
        await asyncio.get_running_loop().run_in_executor(None, time.sleep, 3600)
        raise AssertionError


class IgnoresCancellation(Base):
    async def run(self, ctx: Any) -> CheckResult:
        while True:
            with contextlib.suppress(asyncio.CancelledError):  # swallows every cancellation
                await asyncio.sleep(3600)


class Crashes(Base):
    async def run(self, ctx: Any) -> CheckResult:
        raise KeyError("postgresql://app:hunter2@db/app")


class Fails(Base):
    async def run(self, ctx: Any) -> CheckResult:
        finding = Finding("PF301", self.name, Severity.ERROR, "No module named 'auth_service'")
        return CheckResult.from_findings(self.name, [finding])


KINDS = {
    "sleeps": Sleeps,
    "thread": BlocksAThread,
    "stubborn": IgnoresCancellation,
    "crashes": Crashes,
    "fails": Fails,
}

if __name__ == "__main__":
    pairs = (item.split("=") for item in os.environ["CHECKS"].split(",") if item)
    preflight.checks.REGISTRY = tuple(KINDS[kind](name) for name, kind in pairs)  # type: ignore[misc]
    main(sys.argv[1:])
