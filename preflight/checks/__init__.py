"""The registry: every check preflight runs, as an explicit, ordered tuple.

Adding a check is one new module here and one line in `REGISTRY`. The order is boot order
(imports before app before settings ...); the runner starts them all at once regardless.
Checks that SPEC names but that are not built yet are absent; the runner reports them as
`skip` with that reason, so `--only database` is valid today and honest about it.

Each entry names its module and class instead of importing them: a run imports only the
checks it selects (`check --only imports` does not load the app child's driver, asyncpg's
retry policy or the server-command parser; about 15-20 ms of every start).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from preflight.codes import CHECK_EXIT_CODES

if TYPE_CHECKING:
    from preflight.checks.base import Check, CheckContext
    from preflight.codes import ExitCode
    from preflight.report import CheckResult


class LazyCheck:
    """A registered check whose module is imported the first time the runner asks it anything."""

    def __init__(self, name: str, target: str) -> None:
        """`target` is `module:Class`; the name's exit code comes from the catalogue."""
        self.name = name
        self.exit_code: ExitCode = CHECK_EXIT_CODES[name]
        self._target = target
        self._check: Check | None = None

    def load(self) -> Check:
        """The check itself (imported once)."""
        if self._check is None:
            module, _, cls = self._target.partition(":")
            self._check = getattr(importlib.import_module(module), cls)()
        return self._check

    def skip_reason(self, ctx: CheckContext) -> str | None:
        """The check's own reason not to run."""
        return self.load().skip_reason(ctx)

    async def run(self, ctx: CheckContext) -> CheckResult:
        """Run the check."""
        return await self.load().run(ctx)


REGISTRY: tuple[Check, ...] = (
    LazyCheck("imports", "preflight.checks.imports:ImportsCheck"),
    LazyCheck("app", "preflight.checks.app:AppCheck"),
    LazyCheck("settings", "preflight.checks.settings:SettingsCheck"),
    LazyCheck("middleware", "preflight.checks.middleware:MiddlewareCheck"),
    LazyCheck("lifespan", "preflight.checks.lifespan:LifespanCheck"),
    LazyCheck("bind", "preflight.checks.bind:BindCheck"),
    LazyCheck("database", "preflight.checks.database:DatabaseCheck"),
    LazyCheck("services", "preflight.checks.services:ServicesCheck"),
    LazyCheck("distributions", "preflight.checks.distributions:DistributionsCheck"),
)

__all__ = ["REGISTRY", "LazyCheck"]
