"""The startup / readiness endpoint: `app.mount("/_preflight", probe_app())`.

A pure ASGI app (no framework needed), so it mounts in FastAPI or Starlette and also runs
on its own under any ASGI server. `GET` or `HEAD` on any path under it answers 200 with the
`preflight.probe/1` JSON (the last report plus the live results) when the run `preflight run`
did before it exec'd the server passed and the live checks pass now, and 503 otherwise.

Live checks run on the server's own event loop and are reused for `ttl` (default 5 s), so a
probe every second does not open a database connection every second; concurrent requests
share one run (single flight). Blocking work (reading the report, loading the configuration,
the first import of the database driver) runs in a worker thread, never on the loop.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preflight.codes import ExitCode
from preflight.probe import (
    LIVE_CHECKS,
    LastReport,
    ProbeOutcome,
    conclude,
    container_started,
    decide_without_live,
    default_registry,
    live_config,
    read_last_report,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence

    from preflight.checks.base import Check
    from preflight.config import Config

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]

#: What the endpoint answers to; anything else is 405.
METHODS = frozenset({"GET", "HEAD"})
#: Modules the live checks import on first use (tens of ms): imported in a thread instead.
_DRIVERS = ("asyncpg", "httpx")


@dataclass(frozen=True, slots=True)
class _Cached:
    outcome: ProbeOutcome
    at: float
    """`loop.time()` when the outcome was made."""


class ProbeApp:
    """The ASGI probe endpoint; build it with `probe_app()`."""

    def __init__(
        self,
        *,
        config: Config | None,
        report: Path | None,
        ttl_ms: int | None,
        budget_ms: int | None,
        detail: bool,
        require_report: bool,
        environ: Mapping[str, str] | None,
        registry: Sequence[Check] | None,
    ) -> None:
        """See `probe_app`."""
        self._config = config
        self._report = report
        self._ttl_ms = ttl_ms
        self._budget_ms = budget_ms
        self._detail = detail
        self._require_report = require_report
        self._environ = environ
        self._registry = registry
        self._cached: _Cached | None = None
        self._inflight: asyncio.Task[ProbeOutcome] | None = None
        self._warmed = False
        self.runs = 0
        """How many times the live checks ran (for tests and metrics)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a probe; handle lifespan when served on its own."""
        kind = scope["type"]
        if kind == "lifespan":
            await _lifespan(receive, send)
            return
        if kind != "http":  # a websocket: refuse it
            await send({"type": "websocket.close", "code": 1008})
            return
        method = scope.get("method", "GET")
        if method not in METHODS:
            await _respond(send, 405, b'{"error": "method not allowed"}\n', allow="GET, HEAD")
            return
        outcome = await self.outcome()
        body = json.dumps(
            outcome.to_dict(full_report=True, detail=self._detail), ensure_ascii=False
        ).encode("utf-8")
        status = 200 if outcome.exit_code == ExitCode.OK else 503
        await _respond(send, status, body + b"\n", head=method == "HEAD")

    async def outcome(self) -> ProbeOutcome:
        """The cached outcome if younger than the TTL, else one shared fresh evaluation."""
        loop = asyncio.get_running_loop()
        cached = self._cached
        if cached is not None and loop.time() - cached.at < await self._ttl_s():
            return cached.outcome
        task = self._inflight
        if task is None or task.done() or task.get_loop() is not loop:
            task = loop.create_task(self._evaluate())
            self._inflight = task
        # shield: a client that disconnects must not cancel the run the others wait on
        return await asyncio.shield(task)

    async def _ttl_s(self) -> float:
        if self._ttl_ms is not None:
            return self._ttl_ms / 1000
        config = await self._load_config()
        return config.probe.ttl / 1000 if not isinstance(config, str) else 0.0

    async def _evaluate(self) -> ProbeOutcome:
        """Read the report and run the live checks; a bug becomes a 503 saying so."""
        loop = asyncio.get_running_loop()
        try:
            outcome = await self._evaluate_unsafe()
        except Exception as error:  # noqa: BLE001 - the endpoint answers, it never raises
            from preflight.secrets import mask_secrets  # noqa: PLC0415

            reason = mask_secrets(f"internal error in preflight: {type(error).__name__}: {error}")
            outcome = ProbeOutcome(
                int(ExitCode.INTERNAL), " ".join(reason.split()), LastReport(Path())
            )
        self._cached = _Cached(outcome, loop.time())
        return outcome

    async def _evaluate_unsafe(self) -> ProbeOutcome:
        config = await self._load_config()
        if isinstance(config, str):  # a bad configuration: 503 naming the key
            return ProbeOutcome(int(ExitCode.USAGE), config, LastReport(Path()))
        last = await asyncio.to_thread(self._read_report, config)
        if last.problem is None or self._require_report:
            decided = decide_without_live(last)
            if decided is not None:
                return decided
        await self._warm()
        from preflight.runner import run_checks  # noqa: PLC0415 - asyncio is loaded already

        self.runs += 1
        live = await run_checks(
            live_config(config, self._budget_ms),
            self._registry if self._registry is not None else default_registry(),
            environ=self._env(),
        )
        return conclude(last, live)

    def _read_report(self, config: Config) -> LastReport:
        from preflight.probe import report_path  # noqa: PLC0415

        path = self._report if self._report is not None else report_path(config)
        return read_last_report(path, app=config.app, container_started=container_started())

    async def _load_config(self) -> Config | str:
        """The configuration, loaded once in a thread (it reads files); or why it failed."""
        if self._config is None:
            from preflight.config import ConfigError, load_config  # noqa: PLC0415

            try:
                self._config = await asyncio.to_thread(load_config, {}, self._env(), Path.cwd())
            except ConfigError as error:
                return f"configuration error: {error}"
        return self._config

    async def _warm(self) -> None:
        """Import the drivers the live checks need in a thread, once: imports block."""
        if not self._warmed:
            await asyncio.to_thread(_import_drivers)
            self._warmed = True

    def _env(self) -> Mapping[str, str]:
        return self._environ if self._environ is not None else os.environ


def _import_drivers() -> None:
    import importlib  # noqa: PLC0415

    for name in _DRIVERS:
        try:
            importlib.import_module(name)
        except ImportError:  # the check itself reports a missing driver
            continue


async def _respond(
    send: Send, status: int, body: bytes, *, head: bool = False, allow: str | None = None
) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"cache-control", b"no-store"),
    ]
    if allow is not None:
        headers.append((b"allow", allow.encode("ascii")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def _lifespan(receive: Receive, send: Send) -> None:
    """Served on its own, the endpoint has nothing to start or stop."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def probe_app(
    *,
    config: Config | None = None,
    report: str | os.PathLike[str] | None = None,
    ttl: str | float | None = None,
    budget: str | float | None = None,
    detail: bool = True,
    require_report: bool = True,
    environ: Mapping[str, str] | None = None,
    registry: Sequence[Check] | None = None,
) -> ProbeApp:
    """The probe endpoint as an ASGI app, to mount or to serve on its own.

    - `config`: the configuration; by default loaded on the first request from the
      environment and the config file in the working directory, as the command line does.
    - `report`: the report `run` wrote (default: `--report`/`PREFLIGHT_REPORT`/`report`, else
      `$TMPDIR/preflight/report.json`).
    - `ttl`, `budget`: durations (`5s`, `500ms`, seconds as a number); default
      `[tool.preflight.probe] ttl` (5 s) and `budget` (2 s).
    - `detail=False` answers only `status`, `exit_code` and `reason` (for a public path).
    - `require_report=False` runs the live checks even without a usable report (an app not
      started by `preflight run`); a report that says the run failed still answers 503.
    - `environ`, `registry`: what the live checks see and run (tests inject their own).
    """
    from preflight.durations import parse_duration  # noqa: PLC0415

    return ProbeApp(
        config=config,
        report=Path(report) if report is not None else None,
        ttl_ms=parse_duration(ttl) if ttl is not None else None,
        budget_ms=parse_duration(budget) if budget is not None else None,
        detail=detail,
        require_report=require_report,
        environ=environ,
        registry=registry,
    )


__all__ = ["LIVE_CHECKS", "ProbeApp", "probe_app"]
