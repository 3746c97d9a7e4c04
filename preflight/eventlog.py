"""The event log on stderr, through structlog: JSON lines that Cloud Logging reads, or a console.

Configured once per process by `configure`. Every event passes `mask_event`, so no secret
reaches a log line whatever a check or a driver put into it. `EventLog` turns run results into
events: `check.finished` per check, `check.finding` per finding, `preflight.internal_error`
for a crashed check and `preflight.finished` last.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import TYPE_CHECKING, Any, Literal, TextIO

import structlog

from preflight.report import CheckResult, Finding, Report, Status
from preflight.secrets import mask_secrets

if TYPE_CHECKING:
    from pathlib import Path

    from structlog.typing import EventDict, Processor, WrappedLogger

    from preflight.codes import ExitCode

LOGGER_NAME = "preflight"
#: Cloud Logging's severity names, by structlog method name.
SEVERITIES = {
    "debug": "DEBUG",
    "info": "INFO",
    "warning": "WARNING",
    "warn": "WARNING",
    "error": "ERROR",
    "exception": "ERROR",
    "critical": "CRITICAL",
}
_FIRST_KEYS = ("timestamp", "severity", "message")
#: Error Reporting captures a JSON log entry without a stack trace when it carries this type.
REPORTED_ERROR_KEY = "@type"
REPORTED_ERROR_TYPE = (
    "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent"
)


def add_severity(_: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Add `severity` with the upper-case names Google Cloud Logging reads."""
    event_dict["severity"] = SEVERITIES.get(method_name, "DEFAULT")
    return event_dict


def mask_event(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Mask password-shaped text in every string of the event, however deeply nested."""
    return {key: _mask(value) for key, value in event_dict.items()}


def _mask(value: Any) -> Any:  # noqa: ANN401 - events hold any JSON-able value
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {key: _mask(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(item) for item in value]
    return value


def order_keys(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Put `timestamp`, `severity` and `message` first, so a raw line reads well."""
    first = {key: event_dict.pop(key) for key in _FIRST_KEYS if key in event_dict}
    return {**first, **event_dict}


def json_processors() -> list[Processor]:
    """The chain for JSON lines: one object per line with SPEC's keys."""
    return [
        add_severity,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        mask_event,
        structlog.processors.EventRenamer("message"),
        order_keys,
        structlog.processors.JSONRenderer(),
    ]


def drop_cloud_keys(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Leave out keys meant only for Google Cloud (`@type`): noise on a terminal."""
    event_dict.pop(REPORTED_ERROR_KEY, None)
    return event_dict


def console_processors(*, colors: bool) -> list[Processor]:
    """The chain for a terminal: the same events, readable and coloured."""
    return [
        drop_cloud_keys,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="%H:%M:%S", utc=False, key="timestamp"),
        mask_event,
        structlog.dev.ConsoleRenderer(colors=colors),
    ]


def resolve_log_format(setting: str, stream: TextIO) -> Literal["json", "console"]:
    """`auto` is console on a TTY, JSON otherwise (a container's stderr is not a TTY)."""
    if setting == "auto":
        return "console" if _isatty(stream) else "json"
    return "console" if setting == "console" else "json"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def configure(log_format: Literal["json", "console"], stream: TextIO | None = None) -> None:
    """Configure structlog for this process: events go to `stream` (stderr) in `log_format`."""
    stream = stream or sys.stderr
    processors = (
        json_processors() if log_format == "json" else console_processors(colors=_isatty(stream))
    )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(0),
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    asyncio_logger = logging.getLogger("asyncio")
    asyncio_logger.handlers = [_StdlibToEvents()]
    asyncio_logger.propagate = False


class _StdlibToEvents(logging.Handler):
    """asyncio's own log records as `asyncio.log` events, so stderr stays one JSON per line.

    Without it, the stdlib's last-resort handler prints bare text lines on stderr.
    """

    #: A child reaped after the run's loop closed: expected, since the runner never waits for
    #: the app-loading child it has already killed or heard from (see `preflight.runner`).
    _EXPECTED = "Loop %r that handles pid %r is closed"

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == self._EXPECTED:
            return
        structlog.get_logger(LOGGER_NAME).log(
            record.levelno, "asyncio.log", detail=record.getMessage()
        )


def finding_fields(finding: Finding) -> dict[str, Any]:
    """A finding as event fields: its text is `detail`, since `message` is the event name.

    The severity becomes the event's own severity; fields that do not apply are left out.
    """
    fields = finding.to_dict()
    fields["detail"] = fields.pop("message")
    del fields["severity"]
    return {key: value for key, value in fields.items() if value is not None}


def _level(status: Status) -> str:
    if status in {Status.FAIL, Status.TIMEOUT}:
        return "error"
    return "warning" if status is Status.WARN else "info"


class EventLog:
    """Turns results into events as they happen (a `RunObserver`)."""

    def __init__(self) -> None:
        """Log through the `preflight` logger of the current structlog configuration."""
        self._log = structlog.get_logger(LOGGER_NAME)

    def check_finished(self, result: CheckResult) -> None:
        """`check.finished`, then one `check.finding` per finding at its own severity."""
        self._log.log(
            _LEVELS[_level(result.status)],
            "check.finished",
            check=result.name,
            status=result.status.value,
            duration_ms=result.duration_ms,
            summary=result.summary,
        )
        for finding in result.findings:
            level = _LEVELS[finding.severity.value]
            self._log.log(level, "check.finding", **finding_fields(finding))

    def check_crashed(self, check: str, error: BaseException) -> None:
        """`preflight.internal_error` with the traceback inside the event."""
        self._log.error(
            "preflight.internal_error",
            check=check,
            error=f"{type(error).__name__}: {error}",
            traceback="".join(traceback.format_exception(error)),
        )

    def internal_error(self, error: BaseException) -> None:
        """A crash outside any check (a bug in preflight's own plumbing)."""
        self.check_crashed("-", error)

    def interrupted(self, code: ExitCode) -> None:
        """`preflight.interrupted`: a signal cut the run short."""
        self._log.warning("preflight.interrupted", signal=code.name, exit_code=int(code))

    def report_not_written(self, path: Path, error: OSError) -> None:
        """The report file could not be written (the run's verdict stands)."""
        self._log.warning("report.not_written", path=str(path), error=error.strerror or str(error))

    def disabled(self) -> None:
        """`PREFLIGHT_DISABLE` skipped every check: say so loudly, once."""
        self._log.warning("preflight.disabled", reason="PREFLIGHT_DISABLE is set; no check ran")

    def probe_finished(self, exit_code: int, headline: str, reason: str, report: str) -> None:
        """The last event of `preflight probe`: INFO on pass, else ERROR with the `headline`.

        The headline (`database failed (exit 7)`) is stable, for grouping; `reason` has detail.
        """
        fields: dict[str, Any] = {"exit_code": exit_code, "reason": reason, "report": report}
        if exit_code == 0:
            self._log.info("probe.finished", status="pass", **fields)
            return
        self._log.error(f"probe.finished: {headline}", status="fail", **fields)

    def termination_not_written(self, path: str, error: OSError) -> None:
        """The termination-message file the user chose could not be written."""
        self._log.warning(
            "termination_log.not_written", path=path, error=error.strerror or str(error)
        )

    def finished(self, report: Report) -> None:
        """The last event: `preflight.finished` with the status and the exit code.

        On failure it is one ERROR line whose message names the stage and the exit code
        (`preflight.finished: imports failed (exit 3)`, stable, so Cloud Logging and Error
        Reporting group by it) and carries Error Reporting's `@type`, so it is captured
        without a stack trace.
        """
        fields: dict[str, Any] = {
            "status": report.status.value,
            "exit_code": report.exit_code,
            "duration_ms": report.duration_ms,
            "failed": [r.name for r in report.checks if r.failing_codes(strict=report.strict)],
        }
        if report.status is not Status.FAIL:
            self._log.info("preflight.finished", **fields)
            return
        from preflight.termination import headline, stage_name  # noqa: PLC0415 - failure only

        fields["stage"] = stage_name(report.exit_code)
        fields[REPORTED_ERROR_KEY] = REPORTED_ERROR_TYPE
        self._log.error(f"preflight.finished: {headline(report.exit_code)}", **fields)


# structlog's numeric levels (the stdlib's), by name: `log(level, ...)` takes a number.
_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
