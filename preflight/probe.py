"""The probe: whether the app that `preflight run` started is still fit to serve.

`preflight probe` (exec probes, Docker `HEALTHCHECK`) and the ASGI endpoint (`preflight.asgi`)
answer the same way, in two steps:

1. **The last report** (`run` writes it before it execs the server). A failed run decides at
   once, with its own exit code and without touching the network. A report that is missing,
   unreadable, not a `preflight.report/1`, written for another app, or written before this
   container started cannot vouch for the running app: exit 2, one line saying which.
2. **The live checks** (`database`, `services`) under the probe's own short budget
   (`[tool.preflight.probe] budget`, default 2 s; the run's `budget` does not apply).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preflight.codes import ExitCode
from preflight.report import REPORT_SCHEMA, Status
from preflight.secrets import mask_secrets
from preflight.termination import headline

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from preflight.checks.base import Check
    from preflight.config import Config
    from preflight.report import CheckResult, Report
    from preflight.runner import RunObserver

PROBE_SCHEMA = "preflight.probe/1"
#: The checks a probe re-runs: the ones whose answer can change while the app runs.
LIVE_CHECKS: tuple[str, ...] = ("database", "services")
#: A report larger than this is not one `run` wrote (hundreds of findings are ~100 KiB).
MAX_REPORT_BYTES = 8 * 1024 * 1024
#: Clock slack when comparing the report's mtime with the container's start.
STALE_SLACK_S = 2.0

_NO_REPORT_HINT = (
    "start the server with `preflight run -- CMD` (it writes the report), or point --report /"
    " PREFLIGHT_REPORT at the report `run` wrote"
)


@dataclass(frozen=True, slots=True)
class LastReport:
    """The report `run` left, read and validated; `problem` says why it cannot be used."""

    path: Path
    """Where it was read from."""
    data: dict[str, Any] | None = None
    """The `preflight.report/1` object (strings masked), when it could be read."""
    problem: str | None = None
    """One line: why this report cannot vouch for the app (None when it can)."""
    hint: str | None = None
    """One line: what to do about `problem`."""
    age_s: float | None = None
    """Seconds since the report was written."""

    @property
    def exit_code(self) -> int:
        """The report's exit code; 2 when there is no usable report."""
        if self.problem is not None or self.data is None:
            return int(ExitCode.USAGE)
        return int(self.data["exit_code"])

    def to_dict(self, *, full: bool) -> dict[str, Any]:
        """Where the report is and what it says; the whole report when `full`."""
        summary: dict[str, Any] = {
            "path": str(self.path),
            "status": self.data.get("status") if self.data else None,
            "exit_code": self.data.get("exit_code") if self.data else None,
            "app": self.data.get("app") if self.data else None,
            "age_s": round(self.age_s, 1) if self.age_s is not None else None,
            "problem": self.problem,
            "hint": self.hint,
        }
        if full:
            summary["report"] = self.data
        return summary


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """What one probe concluded: an exit code, one line why, and what it was based on."""

    exit_code: int
    """0, the failed run's code, the live checks' code, or 2 without a usable report."""
    reason: str
    """One line for humans."""
    last: LastReport
    """The report `run` left."""
    live: Report | None = None
    """The live checks' result (None when the last report already decided)."""

    @property
    def status(self) -> str:
        """`pass` or `fail`."""
        return "pass" if self.exit_code == ExitCode.OK else "fail"

    @property
    def headline(self) -> str:
        """A stable line for logs to group by: `last run: imports failed (exit 3)`."""
        if self.live is not None:
            return headline(self.exit_code)
        if self.last.problem is not None:
            return f"no usable report (exit {self.exit_code})"
        return f"last run: {headline(self.exit_code)}"

    def to_dict(self, *, full_report: bool = False, detail: bool = True) -> dict[str, Any]:
        """The `preflight.probe/1` object; only status, code and reason without `detail`."""
        result: dict[str, Any] = {
            "schema": PROBE_SCHEMA,
            "status": self.status,
            "exit_code": self.exit_code,
            "reason": self.reason,
        }
        if detail:
            result["last_run"] = self.last.to_dict(full=full_report)
            result["live"] = self.live.to_dict() if self.live is not None else None
        return result


# --- the last report -------------------------------------------------------------------------


def default_report_path() -> Path:
    """Where `run` writes its report without `--report`: `$TMPDIR/preflight/report.json`."""
    from preflight.cli import default_run_report  # noqa: PLC0415 - one definition, one home

    return default_run_report()


def report_path(config: Config) -> Path:
    """The report to read: `--report` / `PREFLIGHT_REPORT` / `report`, else `run`'s default."""
    return config.report if config.report is not None else default_report_path()


def read_last_report(
    path: Path, *, app: str | None, container_started: float | None = None
) -> LastReport:
    """Read and validate the report at `path`; every way it can be unusable is one line.

    `app` is the configured entry: a report for another app is stale. `container_started`
    (epoch seconds) is when this container began: a report older than that is left over.
    """
    try:
        with path.open("rb") as stream:
            mtime = os.fstat(stream.fileno()).st_mtime
            raw = stream.read(MAX_REPORT_BYTES + 1)
    except FileNotFoundError:
        return LastReport(path, problem=f"no report at {path} yet", hint=_NO_REPORT_HINT)
    except OSError as error:
        problem = f"cannot read the report {path}: {error.strerror or error}"
        return LastReport(path, problem=problem, hint="check the file's permissions")
    age_s = max(0.0, time.time() - mtime)
    data, problem = _parse(path, raw)
    if data is None:
        return LastReport(path, problem=problem, hint=_NO_REPORT_HINT, age_s=age_s)
    stale = _staleness(data, mtime, app=app, container_started=container_started)
    if stale is not None:
        return LastReport(path, data, stale, _NO_REPORT_HINT, age_s)
    return LastReport(path, data, age_s=age_s)


def _parse(path: Path, raw: bytes) -> tuple[dict[str, Any] | None, str]:
    if len(raw) > MAX_REPORT_BYTES:
        return None, f"{path} is larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, f"{path} is not a JSON preflight report"
    if not isinstance(data, dict) or data.get("schema") != REPORT_SCHEMA:
        schema = data.get("schema") if isinstance(data, dict) else None
        found = f"schema {schema!r}" if isinstance(schema, str) else "no schema"
        return None, f"{path} is not a {REPORT_SCHEMA} ({found})"
    code, status = data.get("exit_code"), data.get("status")
    valid = {s.value for s in (Status.PASS, Status.WARN, Status.FAIL)}
    if (
        not isinstance(code, int)
        or isinstance(code, bool)
        or status not in valid
        or (status == Status.FAIL.value) != (code != ExitCode.OK)
    ):
        return None, f"{path} is not a valid {REPORT_SCHEMA} (status and exit_code disagree)"
    masked: dict[str, Any] = _masked(data)
    return masked, ""


def _staleness(
    data: dict[str, Any], mtime: float, *, app: str | None, container_started: float | None
) -> str | None:
    written_for = data.get("app")
    if app is not None and isinstance(written_for, str) and written_for != app:
        return f"the report was written for app {written_for!r}, not {app!r}"
    if container_started is not None and mtime < container_started - STALE_SLACK_S:
        return "the report was written before this container started (left from an earlier run)"
    return None


def _masked(value: Any) -> Any:  # noqa: ANN401 - any JSON value
    """Mask password-shaped text in every string: the file may have been written by anyone."""
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def container_started() -> float | None:
    """When PID 1 (the container's first process) started, in epoch seconds; None if unknown.

    `preflight run` execs the server, so in a container PID 1 started before `run` wrote its
    report; a report older than PID 1 is left from an earlier start (a `docker restart`, or
    an emptyDir /tmp that outlives the container).
    """
    try:
        stat = Path("/proc/1/stat").read_text(encoding="ascii")
        with Path("/proc/stat").open(encoding="ascii") as lines:
            btime = next(int(line.split()[1]) for line in lines if line.startswith("btime "))
        ticks = os.sysconf("SC_CLK_TCK")
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return btime + start_ticks / ticks


# --- the verdict -----------------------------------------------------------------------------


def decide_without_live(last: LastReport) -> ProbeOutcome | None:
    """The outcome when the last report already decides it (unusable or failed), else None."""
    if last.problem is not None:
        return ProbeOutcome(last.exit_code, last.problem, last)
    if last.exit_code != ExitCode.OK:
        reason = f"the last run failed: {headline(last.exit_code)}"
        return ProbeOutcome(last.exit_code, reason, last)
    return None


def live_config(config: Config, budget_ms: int | None = None) -> Config:
    """`config` selecting only the live checks (its `skip` still applies), probe budget."""
    budget = budget_ms if budget_ms is not None else config.probe.budget
    return config.model_copy(update={"only": LIVE_CHECKS, "budget": budget})


def conclude(last: LastReport, live: Report) -> ProbeOutcome:
    """The outcome from a passing last report and the live checks' report."""
    code = live.exit_code
    ran = [r for r in live.checks if r.name in LIVE_CHECKS and r.status is not Status.SKIP]
    if code == ExitCode.OK:
        what = ", ".join(r.name for r in ran) if ran else "none configured"
        before = "the last run passed" if last.problem is None else f"no report ({last.problem})"
        return ProbeOutcome(code, f"{before}; live checks pass ({what})", last, live)
    first = next(
        (f.message for f in live.findings if f.exit_code == code and f.fails(strict=live.strict)),
        None,
    )
    reason = f"live checks: {headline(code)}" + (f": {first}" if first else "")
    return ProbeOutcome(code, " ".join(reason.split()), last, live)


class LiveOnly:
    """Forwards only the live checks' events: the others are `skip` by construction."""

    def __init__(self, observer: RunObserver) -> None:
        """Wrap `observer`."""
        self._observer = observer

    def check_finished(self, result: CheckResult) -> None:
        """Forward a live check's result."""
        if result.name in LIVE_CHECKS:
            self._observer.check_finished(result)

    def check_crashed(self, check: str, error: BaseException) -> None:
        """Forward a crash (always: it is a bug)."""
        self._observer.check_crashed(check, error)


def probe(
    config: Config,
    *,
    environ: Mapping[str, str],
    budget_ms: int | None = None,
    registry: Sequence[Check] | None = None,
    observer: RunObserver | None = None,
    started: float | None = None,
) -> ProbeOutcome:
    """Run one probe: the last report, then (if it passed) the live checks under the budget.

    `started` (`time.monotonic()`) is when the budget began: the process's start for the
    command line, so the budget bounds the whole probe.
    """
    last = read_last_report(
        report_path(config), app=config.app, container_started=container_started()
    )
    decided = decide_without_live(last)
    if decided is not None:
        return decided
    from preflight.runner import execute  # noqa: PLC0415 - asyncio only when live checks run

    live = execute(
        live_config(config, budget_ms),
        registry if registry is not None else default_registry(),
        environ=environ,
        observer=LiveOnly(observer) if observer is not None else None,
        started=started,
    )
    return conclude(last, live)


def default_registry() -> Sequence[Check]:
    """The registry the command line runs (read at call time: tests swap it)."""
    from preflight.checks import REGISTRY  # noqa: PLC0415 - imports the checks' modules

    return REGISTRY


# --- output ----------------------------------------------------------------------------------


def render_outcome(outcome: ProbeOutcome, output_format: str) -> str:
    """The probe's stdout: the `preflight.probe/1` JSON object, or a few console lines."""
    if output_format != "console":
        return json.dumps(outcome.to_dict(), indent=2, ensure_ascii=False) + "\n"
    mark = "PASS" if outcome.exit_code == ExitCode.OK else "FAIL"
    lines = [f"preflight probe: {mark} (exit {outcome.exit_code}): {outcome.reason}"]
    last = outcome.last
    if last.data is not None:
        age = f", written {last.age_s:.0f}s ago" if last.age_s is not None else ""
        lines.append(f"  last run  {last.data['status']} (exit {last.data['exit_code']}){age}")
    lines.append(f"  report    {last.path}")
    if last.hint and last.problem:
        lines.append(f"  hint      {last.hint}")
    if outcome.live is not None:
        for result in outcome.live.checks:
            if result.name in LIVE_CHECKS:
                lines.append(f"  {result.name:<9} {result.status.value}: {result.summary}")
                lines.extend(
                    f"    {f.code} {f.message}" + (f"\n    hint: {f.hint}" if f.hint else "")
                    for f in result.findings
                )
    return mask_secrets("\n".join(lines)) + "\n"
