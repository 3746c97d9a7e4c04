"""The imports check (exit 3): every import that would break the boot, in one static pass.

Reads the first-party files the entry reaches (never executing them), follows module-level
imports, boot-time calls and the handlers of failed guards, and reports each broken import
with its chain. The walk is CPU-bound, so it runs in a worker thread: the event loop stays
free for the I/O checks and the deadline (a walk cut off there is abandoned, not awaited).
"""

from __future__ import annotations

import asyncio
import gc
from typing import TYPE_CHECKING

from preflight.checks.base import needs_app
from preflight.codes import ExitCode, Severity
from preflight.report import CheckResult

if TYPE_CHECKING:
    from preflight.checks.base import CheckContext
    from preflight.config import Config
    from preflight.distmap import DistributionMap
    from preflight.graph.walker import WalkResult


class ImportsCheck:
    """Static import graph from the entry: PF300-PF309."""

    name = "imports"
    exit_code = ExitCode.IMPORTS

    def skip_reason(self, ctx: CheckContext) -> str | None:
        """Nothing to walk without an entry."""
        return needs_app(ctx)

    async def run(self, ctx: CheckContext) -> CheckResult:
        """Walk in a worker thread and turn the walk into a result."""
        config = ctx.config
        result, parsed, cached = await asyncio.get_running_loop().run_in_executor(
            None, walk_entry, config
        )
        errors = sum(1 for f in result.findings if f.severity is Severity.ERROR)
        modules = len(result.modules)
        walked = f"{modules} module{'s' if modules != 1 else ''}"
        if errors:
            summary = f"{errors} broken import{'s' if errors != 1 else ''} in {walked}"
        else:
            summary = f"{walked}, no broken import"
        metrics = {
            "modules": modules,
            "edges": len(result.edges),
            "boot_calls": result.functions_followed,
            "files_parsed": parsed,
            "files_cached": cached,
        }
        return CheckResult.from_findings(self.name, result.findings, summary, metrics)


def walk_entry(config: Config) -> tuple[WalkResult, int, int]:
    """Walk the configured entry; returns the walk and how many files were parsed and cached."""
    from preflight.graph.loader import ScanLoader  # noqa: PLC0415 - only this check needs them
    from preflight.graph.resolver import Resolver  # noqa: PLC0415
    from preflight.graph.walker import Walker  # noqa: PLC0415

    if config.app is None:
        msg = "walk_entry needs config.app"
        raise ValueError(msg)
    # The walk allocates hundreds of thousands of small, acyclic objects: the cyclic garbage
    # collector would scan them again and again for nothing (a fifth of a warm walk).
    collecting = gc.isenabled()
    gc.disable()
    try:
        loader = ScanLoader(config.roots, use_cache=config.imports.cache)
        walker = Walker(
            Resolver(config.roots),
            loader,
            lazy=config.imports.lazy,
            ignore=config.imports.ignore,
            distributions=distribution_map(config),
        )
        result = walker.walk(config.app.split(":", 1)[0])
        loader.save()
    finally:
        if collecting:
            gc.enable()
    return result, loader.parsed, loader.cached


def distribution_map(config: Config) -> DistributionMap:
    """Which distribution a missing module belongs to; nothing is read until a module is."""
    from preflight.distmap import DistributionMap  # noqa: PLC0415 - only this check needs it
    from preflight.requirements import declared_requirements  # noqa: PLC0415

    return DistributionMap(lambda: declared_requirements(config).requirements)
