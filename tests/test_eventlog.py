"""The event log: which events EventLog emits, the processors, and the real JSON/console output."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from samples import BROKEN_IMPORT, LAZY_IMPORT
from structlog.testing import capture_logs

from preflight import eventlog
from preflight.codes import ExitCode, Severity
from preflight.eventlog import EventLog, add_severity, mask_event
from preflight.report import CheckResult, Finding, Report, Status

DSN = "postgresql://app:hunter2@db/app"


@pytest.fixture(autouse=True)
def reset_structlog():
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


def passing() -> CheckResult:
    return CheckResult.from_findings(
        "imports", [], "311 modules, no broken import", {"modules": 311}
    ).stamped(180)


def failing(*findings: Finding) -> CheckResult:
    found = findings or (BROKEN_IMPORT, LAZY_IMPORT)
    return CheckResult.from_findings("imports", found, "2 broken imports").stamped(42)


def timed_out() -> CheckResult:
    finding = Finding("PF700", "database", Severity.ERROR, "database did not answer")
    return CheckResult("database", Status.TIMEOUT, "cut off", (finding,)).stamped(5000)


def make_report(*checks: CheckResult, **options) -> Report:
    return Report(checks=checks, app="service.main:app", budget_ms=15_000, duration_ms=9, **options)


def crash_in_connect() -> ValueError:
    def connect_to_database():
        msg = f"could not connect to {DSN} (password=hunter2)"
        raise ValueError(msg)

    try:
        connect_to_database()
    except ValueError as error:
        return error
    pytest.fail("did not raise")


# --- EventLog, captured as event dicts -----------------------------------------------------


def test_check_finished_on_a_pass_emits_one_info_event():
    with capture_logs() as logs:
        EventLog().check_finished(passing())
    assert logs == [
        {
            "event": "check.finished",
            "log_level": "info",
            "check": "imports",
            "status": "pass",
            "duration_ms": 180,
            "summary": "311 modules, no broken import",
        }
    ]


def test_check_finished_on_a_warning_logs_at_warning():
    with capture_logs() as logs:
        EventLog().check_finished(failing(LAZY_IMPORT))
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("check.finished", "warning"),
        ("check.finding", "warning"),
    ]
    assert logs[0]["status"] == "warn"


def test_check_finished_on_a_failure_emits_one_event_per_finding():
    with capture_logs() as logs:
        EventLog().check_finished(failing())
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("check.finished", "error"),
        ("check.finding", "error"),
        ("check.finding", "warning"),
    ]
    assert logs[0]["status"] == "fail"
    assert logs[0]["check"] == "imports"
    assert logs[0]["duration_ms"] == 42
    assert logs[0]["summary"] == "2 broken imports"
    assert logs[1] == {
        "event": "check.finding",
        "log_level": "error",
        "code": "PF302",
        "check": "imports",
        "detail": (
            "cannot import name 'websocket_auth_middleware' from 'service.middleware.websocket'"
        ),
        "module": "service.middleware.websocket",
        "name": "websocket_auth_middleware",
        "file": "service/app_factory.py",
        "line": 23,
        "chain": ["service.main", "service.app_factory"],
        "hint": "did you mean 'WebSocketAuthMiddleware'?",
    }
    assert logs[2]["code"] == "PF301"
    assert logs[2]["chain"] == ["service.main"]


def test_finding_events_carry_no_null_fields_and_no_severity_key():
    with capture_logs() as logs:
        EventLog().check_finished(failing())
    for event in logs[1:]:
        assert "severity" not in event
        assert None not in event.values()
    assert "module" not in logs[2]
    assert "name" not in logs[2]


@pytest.mark.parametrize(
    ("severity", "level"),
    [(Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "info")],
)
def test_finding_event_level_is_the_findings_severity(severity, level):
    finding = Finding("PF301", "imports", severity, "No module named 'x'")
    with capture_logs() as logs:
        EventLog().check_finished(failing(finding))
    assert logs[1]["event"] == "check.finding"
    assert logs[1]["log_level"] == level


def test_finding_without_chain_or_location_logs_only_what_applies():
    finding = Finding("PF301", "imports", Severity.ERROR, "No module named 'x'")
    with capture_logs() as logs:
        EventLog().check_finished(failing(finding))
    assert logs[1] == {
        "event": "check.finding",
        "log_level": "error",
        "code": "PF301",
        "check": "imports",
        "detail": "No module named 'x'",
    }


def test_a_timed_out_check_logs_at_error():
    with capture_logs() as logs:
        EventLog().check_finished(timed_out())
    assert logs[0]["event"] == "check.finished"
    assert logs[0]["log_level"] == "error"
    assert logs[0]["status"] == "timeout"
    assert logs[1]["code"] == "PF700"


def test_check_crashed_emits_internal_error_with_the_traceback():
    with capture_logs() as logs:
        EventLog().check_crashed("database", crash_in_connect())
    assert len(logs) == 1
    event = logs[0]
    assert event["event"] == "preflight.internal_error"
    assert event["log_level"] == "error"
    assert event["check"] == "database"
    assert event["error"].startswith("ValueError: could not connect to")
    assert "connect_to_database" in event["traceback"]
    assert "Traceback" in event["traceback"]


def test_internal_error_outside_a_check():
    with capture_logs() as logs:
        EventLog().internal_error(RuntimeError("plumbing broke"))
    assert logs[0]["event"] == "preflight.internal_error"
    assert logs[0]["error"] == "RuntimeError: plumbing broke"


def test_finished_on_a_failing_report_logs_at_error():
    with capture_logs() as logs:
        EventLog().finished(make_report(failing(), CheckResult.skipped("database", "off")))
    assert len(logs) == 1
    event = logs[0]
    # on failure the message names the stage and the code, for Cloud Logging to group by
    assert event["event"] == "preflight.finished: imports failed (exit 3)"
    assert event["log_level"] == "error"
    assert event["status"] == "fail"
    assert event["exit_code"] == 3
    assert event["stage"] == "imports"
    assert event["@type"].endswith("ReportedErrorEvent")
    assert event["failed"] == ["imports"]


@pytest.mark.parametrize(
    ("checks", "status"),
    [((passing(),), "pass"), ((failing(LAZY_IMPORT),), "warn")],
)
def test_finished_on_a_passing_report_logs_at_info(checks, status):
    with capture_logs() as logs:
        EventLog().finished(make_report(*checks))
    assert logs[0]["event"] == "preflight.finished"
    assert logs[0]["log_level"] == "info"
    assert logs[0]["status"] == status
    assert logs[0]["exit_code"] == 0
    assert logs[0]["failed"] == []


def test_interrupted_by_sigterm():
    with capture_logs() as logs:
        EventLog().interrupted(ExitCode.SIGTERM)
    assert len(logs) == 1
    assert logs[0]["event"] == "preflight.interrupted"
    assert logs[0]["exit_code"] == 143
    assert logs[0]["signal"] == "SIGTERM"
    assert logs[0]["log_level"] == "warning"


# --- processors as pure functions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "severity"),
    [
        ("debug", "DEBUG"),
        ("info", "INFO"),
        ("warning", "WARNING"),
        ("error", "ERROR"),
        ("critical", "CRITICAL"),
        ("exception", "ERROR"),
    ],
)
def test_add_severity(method, severity):
    event = add_severity(None, method, {"event": "x"})
    assert event == {"event": "x", "severity": severity}


def test_mask_event_masks_nested_strings():
    event = {
        "event": f"connecting to {DSN}",
        "error": {"dsn": DSN, "attempts": [DSN, {"deep": f"password=hunter2 {DSN}"}]},
        "hosts": (DSN, "db"),
        "count": 3,
        "ok": None,
    }
    masked = mask_event(None, "info", event)
    assert "hunter2" not in repr(masked)
    assert masked["event"] == "connecting to postgresql://app:***@db/app"
    assert masked["error"]["dsn"] == "postgresql://app:***@db/app"
    assert masked["error"]["attempts"][0] == "postgresql://app:***@db/app"
    assert masked["hosts"][1] == "db"
    assert masked["count"] == 3
    assert masked["ok"] is None


# --- the real pipelines --------------------------------------------------------------------


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def log_a_whole_run(log: EventLog) -> None:
    log.check_finished(failing())
    log.check_finished(timed_out())
    log.check_crashed("services", crash_in_connect())
    log.finished(make_report(failing(), timed_out()))


def test_json_lines_have_timestamp_severity_and_message_first():
    stream = io.StringIO()
    eventlog.configure("json", stream=stream)
    log_a_whole_run(EventLog())
    events = json_lines(stream)

    assert [e["message"] for e in events] == [
        "check.finished",
        "check.finding",
        "check.finding",
        "check.finished",
        "check.finding",
        "preflight.internal_error",
        "preflight.finished: imports failed (exit 3)",
    ]
    assert [e["severity"] for e in events] == [
        "ERROR",
        "ERROR",
        "WARNING",
        "ERROR",
        "ERROR",
        "ERROR",
        "ERROR",
    ]
    now = datetime.now(UTC)
    for event in events:
        assert list(event)[:3] == ["timestamp", "severity", "message"]
        assert "event" not in event
        stamp = event["timestamp"]
        assert stamp.endswith(("Z", "+00:00"))
        parsed = datetime.fromisoformat(stamp)  # 3.11 reads a trailing Z
        assert parsed.utcoffset() == timedelta(0)
        assert abs(now - parsed) < timedelta(minutes=1)
    assert events[-1]["status"] == "fail"
    assert events[-1]["exit_code"] == 3
    assert events[0]["check"] == "imports"
    assert events[1]["code"] == "PF302"
    assert events[1]["chain"] == ["service.main", "service.app_factory"]


def test_json_info_event_has_severity_info():
    stream = io.StringIO()
    eventlog.configure("json", stream=stream)
    EventLog().check_finished(passing())
    [event] = json_lines(stream)
    assert event["severity"] == "INFO"
    assert event["message"] == "check.finished"
    assert event["status"] == "pass"
    assert event["duration_ms"] == 180


def test_json_finding_event_keeps_the_findings_message():
    """`message` is the event name, so the finding's own text must survive under some key."""
    stream = io.StringIO()
    eventlog.configure("json", stream=stream)
    EventLog().check_finished(failing(BROKEN_IMPORT))
    finding_line = stream.getvalue().splitlines()[1]
    assert json.loads(finding_line)["message"] == "check.finding"
    detail = json.loads(finding_line)["detail"]
    assert detail.startswith("cannot import name 'websocket_auth_middleware'")


def test_json_log_never_shows_a_password():
    stream = io.StringIO()
    eventlog.configure("json", stream=stream)
    log = EventLog()
    finding = Finding("PF700", "database", Severity.ERROR, f"no answer from {DSN}", hint=DSN)
    log.check_finished(CheckResult("database", Status.TIMEOUT, f"tried {DSN}", (finding,)))
    log.check_crashed("database", crash_in_connect())
    text = stream.getvalue()
    events = json_lines(stream)
    assert "hunter2" not in text
    assert "app:***@db" in text
    crash = events[-1]
    assert crash["message"] == "preflight.internal_error"
    assert "app:***@db" in crash["error"]
    assert "connect_to_database" in crash["traceback"]


def test_json_log_masks_passwords_in_extra_fields():
    stream = io.StringIO()
    eventlog.configure("json", stream=stream)
    structlog.get_logger("preflight").error(
        "database.error", error=f"auth failed for {DSN}", attempts=[{"dsn": DSN}]
    )
    text = stream.getvalue()
    assert "hunter2" not in text
    [event] = json_lines(stream)
    assert event["attempts"] == [{"dsn": "postgresql://app:***@db/app"}]


def test_console_log_is_readable_text_without_colour_off_a_tty():
    stream = io.StringIO()
    eventlog.configure("console", stream=stream)
    log_a_whole_run(EventLog())
    text = stream.getvalue()
    assert "check.finished" in text
    assert "check.finding" in text
    assert "preflight.finished" in text
    assert "PF302" in text
    assert "\x1b[" not in text
    assert "hunter2" not in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("auto", "json"), ("json", "json"), ("console", "console")],
)
def test_resolve_log_format_off_a_tty(setting, expected):
    assert eventlog.resolve_log_format(setting, io.StringIO()) == expected


def test_asyncio_log_records_become_json_events_and_the_late_reap_is_dropped() -> None:
    import logging  # noqa: PLC0415

    stream = io.StringIO()
    eventlog.configure("json", stream)
    asyncio_logger = logging.getLogger("asyncio")
    try:
        asyncio_logger.warning("Loop %r that handles pid %r is closed", "<loop>", 4242)
        asyncio_logger.error("Unclosed transport %r with password=hunter2", "<t>")
    finally:
        asyncio_logger.handlers = []
        asyncio_logger.propagate = True
    (line,) = stream.getvalue().splitlines()
    event = json.loads(line)
    assert (event["severity"], event["message"]) == ("ERROR", "asyncio.log")
    assert "Unclosed transport" in event["detail"]
    assert "hunter2" not in line
