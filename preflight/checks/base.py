"""What a check is, and what it is given: the contract between the runner and every check.

A check is a small object with a name, its exit code and `async run(ctx) -> CheckResult`. It
returns data and never prints or logs; it waits only through `ctx.deadline` and `ctx.clock`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from preflight.clock import Clock, Deadline
    from preflight.codes import ExitCode
    from preflight.config import Config
    from preflight.report import CheckResult

T = TypeVar("T")


@dataclass(slots=True)
class CheckContext:
    """Everything a check may use: configuration, the deadline, the environment."""

    config: Config
    """The validated configuration."""
    deadline: Deadline
    """The run's one deadline; cap every timeout with `deadline.cap()`."""
    environ: Mapping[str, str]
    """The environment the app will see (injected, never read from `os.environ` directly)."""
    command: tuple[str, ...] = ()
    """The server command `preflight run` will exec on pass (empty for `check` and `probe`)."""
    _shared: dict[str, asyncio.Task[Any]] = field(default_factory=dict)

    @property
    def clock(self) -> Clock:
        """The run's clock (sleep through it, so tests need not)."""
        return self.deadline.clock

    def shared(self, key: str, work: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
        """Run `work` once per run and give every caller the same task.

        Checks that need one expensive thing (the app, settings and middleware checks read
        one child interpreter) share it here instead of knowing about each other.
        """
        task = self._shared.get(key)
        if task is None:

            async def call() -> T:
                return await work()

            task = asyncio.ensure_future(call())
            self._shared[key] = task
        return task


class Check(Protocol):
    """One check: a name, the exit code its failure causes, and how to run it."""

    @property
    def name(self) -> str:
        """The name used in `--only`, `--skip`, the report and the event log."""
        ...

    @property
    def exit_code(self) -> ExitCode:
        """The exit code of this check's stage (used when it times out)."""
        ...

    def skip_reason(self, ctx: CheckContext) -> str | None:
        """Why this check has nothing to do here (nothing configured), or None to run it.

        It sees the whole context: a DSN may come from the environment.
        """
        ...

    async def run(self, ctx: CheckContext) -> CheckResult:
        """Do the check within `ctx.deadline` and return what it found."""
        ...


def needs_app(ctx: CheckContext) -> str | None:
    """The skip reason of every check that reads the entry, when none is configured."""
    return (
        None if ctx.config.app else "no app configured (--app, PREFLIGHT_APP or app in the config)"
    )
