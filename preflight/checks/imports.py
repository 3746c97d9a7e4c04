"""The imports check (exit 3): every import that would break the boot, in one static pass.

Reads the first-party files the entry reaches (never executing them), follows module-level
imports, boot-time calls and the handlers of failed guards, and reports each broken import
with its chain. The walk is CPU-bound, so it runs in a worker thread: the event loop stays
free for the I/O checks and the deadline (a walk cut off there is abandoned, not awaited).
While nothing the last walk read has changed, its result is reused instead
(`preflight.graph.walkcache`): a start-time run after a build-time one costs a few `stat`s.
"""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from preflight.checks.base import needs_app
from preflight.codes import ExitCode, Severity
from preflight.report import CheckResult

if TYPE_CHECKING:
    from pathlib import Path

    from preflight.checks.base import CheckContext
    from preflight.config import Config
    from preflight.distmap import DistributionMap
    from preflight.graph.loader import ScanLoader
    from preflight.graph.resolver import Resolver
    from preflight.graph.walkcache import WalkSummary
    from preflight.graph.walker import WalkResult
    from preflight.requirements import Declared


class ImportsCheck:
    """Static import graph from the entry: PF300-PF309."""

    name = "imports"
    exit_code = ExitCode.IMPORTS

    def skip_reason(self, ctx: CheckContext) -> str | None:
        """Nothing to walk without an entry."""
        return needs_app(ctx)

    async def run(self, ctx: CheckContext) -> CheckResult:
        """Walk in a worker thread (or reuse the last walk) and turn it into a result."""
        outcome = await asyncio.get_running_loop().run_in_executor(None, cached_walk, ctx.config)
        summary = outcome.summary
        errors = sum(1 for f in summary.findings if f.severity is Severity.ERROR)
        walked = f"{summary.modules} module{'s' if summary.modules != 1 else ''}"
        if errors:
            text = f"{errors} broken import{'s' if errors != 1 else ''} in {walked}"
        else:
            text = f"{walked}, no broken import"
        metrics = {
            "modules": summary.modules,
            "edges": summary.edges,
            "boot_calls": summary.functions_followed,
            "files_parsed": outcome.parsed,
            "files_cached": outcome.cached,
            "walk_cached": outcome.reused,
        }
        return CheckResult.from_findings(self.name, summary.findings, text, metrics)


@dataclass(frozen=True, slots=True)
class WalkOutcome:
    """A walk's summary, and where it came from."""

    summary: WalkSummary
    parsed: int
    """Files read and parsed."""
    cached: int
    """Files whose scan came from the parse cache, or that the reused walk had read."""
    reused: bool
    """Taken from the walk cache: nothing the last walk read has changed."""


@dataclass
class _Walk:
    """One walk, with what it read (for the walk cache)."""

    result: WalkResult
    loader: ScanLoader
    declared_files: list[Path]


def cached_walk(config: Config) -> WalkOutcome:
    """The walk of the configured entry: the stored one while nothing it read has changed.

    With `imports.cache` off, always a fresh walk, stored nowhere.
    """
    from preflight.graph.resolver import Resolver  # noqa: PLC0415 - only this check needs it
    from preflight.graph.signatures import file_signature  # noqa: PLC0415
    from preflight.graph.walkcache import (  # noqa: PLC0415
        Dependencies,
        WalkCache,
        WalkSummary,
        walk_key,
    )

    started_ns = time.time_ns()
    resolver = Resolver(config.roots)
    store = WalkCache.load(resolver.roots[0]) if config.imports.cache and resolver.roots else None
    key = walk_key(
        _entry_module(config),
        tuple(map(str, resolver.roots)),
        resolver.sys_path,
        config.imports.lazy,
        tuple(config.imports.ignore),
        repr(config.distributions),
        str(config.config),
    )
    summary = store.lookup(key) if store is not None else None
    if summary is not None:
        return WalkOutcome(summary, 0, summary.files, reused=True)
    walk = _walk(config, resolver)
    result = walk.result
    summary = WalkSummary(
        tuple(result.findings),
        len(result.modules),
        len(result.edges),
        result.functions_followed,
        len(walk.loader.files),
    )
    if store is not None:
        declared = {str(path): file_signature(path) for path in walk.declared_files}
        read = Dependencies.record(walk.loader.files | declared, resolver.directories, started_ns)
        if read is not None:
            store.store(key, read, summary)
    return WalkOutcome(summary, walk.loader.parsed, walk.loader.cached, reused=False)


def walk_entry(config: Config) -> tuple[WalkResult, int, int]:
    """Walk the configured entry; returns the walk and how many files were parsed and cached."""
    from preflight.graph.resolver import Resolver  # noqa: PLC0415 - only this check needs it

    walk = _walk(config, Resolver(config.roots))
    return walk.result, walk.loader.parsed, walk.loader.cached


def _entry_module(config: Config) -> str:
    if config.app is None:
        msg = "the imports walk needs config.app"
        raise ValueError(msg)
    return config.app.split(":", 1)[0]


def _walk(config: Config, resolver: Resolver) -> _Walk:
    """Walk from the entry through the parse cache, and save the cache."""
    from preflight.graph.loader import ScanLoader  # noqa: PLC0415 - only this check needs them
    from preflight.graph.walker import Walker  # noqa: PLC0415

    entry = _entry_module(config)
    declared_files: list[Path] = []
    # The walk allocates hundreds of thousands of small, acyclic objects: the cyclic garbage
    # collector would scan them again and again for nothing (a fifth of a warm walk).
    collecting = gc.isenabled()
    gc.disable()
    try:
        loader = ScanLoader(config.roots, use_cache=config.imports.cache)
        walker = Walker(
            resolver,
            loader,
            lazy=config.imports.lazy,
            ignore=config.imports.ignore,
            distributions=distribution_map(config, declared_files),
        )
        result = walker.walk(entry)
        loader.save()
    finally:
        if collecting:
            gc.enable()
    return _Walk(result, loader, declared_files)


def distribution_map(config: Config, read: list[Path]) -> DistributionMap:
    """Which distribution a missing module belongs to; nothing is read until a module is.

    `read` collects the files the requirements lookup read, when it runs.
    """
    from preflight.distmap import DistributionMap  # noqa: PLC0415 - only this check needs it
    from preflight.requirements import declared_requirements  # noqa: PLC0415

    def declared() -> list[Declared]:
        declaration = declared_requirements(config)
        read.extend(declaration.files)
        return declaration.requirements

    return DistributionMap(declared)
