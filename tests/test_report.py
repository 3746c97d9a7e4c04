"""Findings, check results, the report's exit-code rules and the code catalogue."""

from __future__ import annotations

import dataclasses
import re

import pytest

from preflight._version import __version__
from preflight.codes import (
    CATALOGUE,
    CHECK_EXIT_CODES,
    CHECK_NAMES,
    ExitCode,
    Severity,
    exit_code_of,
    lookup,
)
from preflight.report import CheckResult, Finding, Report, Status

DSN = "postgresql://app:hunter2@db/app"
FINDING_KEYS = {"code", "check", "severity", "message", "module", "name", "file", "line", "chain"}
FINDING_KEYS |= {"hint", "output"}


def finding(code: str = "PF302", severity: Severity = Severity.ERROR, **fields) -> Finding:
    check = fields.pop("check", lookup(code).check)
    message = fields.pop("message", f"{code} happened")
    return Finding(code, check, severity, message, **fields)


def result(name: str, *findings: Finding) -> CheckResult:
    return CheckResult.from_findings(name, findings, summary=f"{name} checked")


def report(*checks: CheckResult, strict: bool = False, interrupted: ExitCode | None = None):
    return Report(
        checks=checks,
        app="service.main:app",
        budget_ms=15_000,
        duration_ms=412,
        strict=strict,
        interrupted=interrupted,
    )


# --- Finding -------------------------------------------------------------------------------


def test_finding_rejects_a_code_not_in_the_catalogue():
    with pytest.raises(ValueError, match="PF399"):
        Finding("PF399", "imports", Severity.ERROR, "nope")


def test_finding_rejects_a_malformed_code():
    with pytest.raises(ValueError, match="not in the catalogue"):
        Finding("E302", "imports", Severity.ERROR, "nope")


def test_finding_masks_a_password_in_message_and_hint():
    found = finding(
        "PF700",
        message=f"could not connect to {DSN}: timeout",
        hint=f"check that {DSN} answers",
    )
    for text in (found.message, found.hint):
        assert "hunter2" not in text
        assert "app:***@db" in text
    assert "hunter2" not in repr(found.to_dict())


def test_finding_masks_passwords_in_every_text_field():
    """`name`, `module`, `file` and `chain` reach the report too (e.g. a service's URL)."""
    url = "http://probe:hunter2@auth:8081/health"
    found = finding(
        "PF800",
        message="service auth did not answer within the budget",
        module=DSN,
        name=url,
        file="settings.py password=hunter2",
        chain=("service.main", url),
    )
    assert "hunter2" not in repr(found.to_dict())
    assert found.name == "http://probe:***@auth:8081/health"


def test_finding_to_dict_has_every_spec_key_with_none_where_not_applicable():
    as_dict = finding(message="cannot import name 'x' from 'service.a'").to_dict()
    assert set(as_dict) == FINDING_KEYS
    assert as_dict == {
        "code": "PF302",
        "check": "imports",
        "severity": "error",
        "message": "cannot import name 'x' from 'service.a'",
        "module": None,
        "name": None,
        "file": None,
        "line": None,
        "chain": None,
        "hint": None,
        "output": None,
    }


def test_finding_to_dict_with_every_field_set():
    as_dict = finding(
        message="cannot import name 'websocket_auth_middleware'",
        module="service.middleware.websocket",
        name="websocket_auth_middleware",
        file="service/app_factory.py",
        line=23,
        chain=["service.main", "service.app_factory"],
        hint="did you mean 'WebSocketAuthMiddleware'?",
    ).to_dict()
    assert set(as_dict) == FINDING_KEYS
    assert as_dict["chain"] == ["service.main", "service.app_factory"]
    assert isinstance(as_dict["chain"], list)
    assert as_dict["line"] == 23
    assert as_dict["file"] == "service/app_factory.py"
    assert as_dict["module"] == "service.middleware.websocket"
    assert as_dict["name"] == "websocket_auth_middleware"
    assert as_dict["hint"] == "did you mean 'WebSocketAuthMiddleware'?"


def test_finding_chain_given_as_list_is_stored_as_tuple():
    found = finding(chain=["a", "b"])
    assert found.chain == ("a", "b")


def test_finding_exit_code_follows_its_code():
    assert finding("PF302").exit_code == 3
    assert finding("PF700").exit_code == 7
    assert finding("PF7001").exit_code == 70


# --- CheckResult ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severities", "status"),
    [
        ((Severity.ERROR,), Status.FAIL),
        ((Severity.INFO, Severity.WARNING, Severity.ERROR), Status.FAIL),
        ((Severity.WARNING,), Status.WARN),
        ((Severity.INFO, Severity.WARNING), Status.WARN),
        ((Severity.INFO,), Status.PASS),
        ((Severity.INFO, Severity.INFO), Status.PASS),
        ((), Status.PASS),
    ],
)
def test_check_result_status_follows_the_worst_finding(severities, status):
    found = [finding("PF301", severity) for severity in severities]
    checked = CheckResult.from_findings("imports", found, "summary", {"modules": 3})
    assert checked.status is status
    assert checked.findings == tuple(found)
    assert checked.summary == "summary"
    assert dict(checked.metrics) == {"modules": 3}


def test_check_result_metrics_cannot_be_mutated():
    source = {"modules": 311}
    checked = CheckResult.from_findings("imports", [], metrics=source)
    with pytest.raises(TypeError):
        checked.metrics["modules"] = 0  # type: ignore[index]
    source["modules"] = 0
    assert checked.metrics["modules"] == 311


def test_check_result_metrics_given_to_the_constructor_are_frozen_too():
    checked = CheckResult("imports", Status.PASS, metrics={"edges": 1})
    with pytest.raises(TypeError):
        checked.metrics["edges"] = 2  # type: ignore[index]


@pytest.mark.parametrize(
    ("value", "attribute", "new"),
    [
        (CheckResult("imports", Status.PASS), "status", Status.FAIL),
        (finding(), "message", "changed"),
        (report(), "duration_ms", 1),
    ],
)
def test_values_are_frozen(value, attribute, new):
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, attribute, new)


def test_check_result_findings_given_as_list_are_a_tuple():
    checked = CheckResult("imports", Status.FAIL, findings=[finding()])
    assert isinstance(checked.findings, tuple)


def test_stamped_sets_duration_and_keeps_the_rest():
    checked = result("imports", finding())
    stamped = checked.stamped(180)
    assert stamped.duration_ms == 180
    assert checked.duration_ms == 0
    assert stamped.findings == checked.findings
    assert stamped.status is checked.status


def test_skipped_has_status_skip_and_the_reason():
    skipped = CheckResult.skipped("database", "no database configured")
    assert skipped.status is Status.SKIP
    assert skipped.summary == "no database configured"
    assert skipped.findings == ()


# --- Report exit code ----------------------------------------------------------------------


def _timed_out(name: str) -> CheckResult:
    timeout = lookup(f"PF{int(CHECK_EXIT_CODES[name])}00")
    return CheckResult(
        name,
        Status.TIMEOUT,
        "did not finish",
        (finding(timeout.code, message=timeout.meaning),),
    )


EXIT_CODE_CASES = [
    pytest.param((), {}, 0, Status.PASS, id="no checks"),
    pytest.param(
        (result("imports"), CheckResult.skipped("database", "off")),
        {},
        0,
        Status.PASS,
        id="nothing failed",
    ),
    pytest.param((result("imports", finding("PF302")),), {}, 3, Status.FAIL, id="one PF302"),
    pytest.param(
        (result("imports", finding("PF302")), result("database", finding("PF7001"))),
        {},
        3,
        Status.FAIL,
        id="PF302 and PF7001: smallest",
    ),
    pytest.param(
        (result("database", finding("PF7001")), result("imports", finding("PF302"))),
        {},
        3,
        Status.FAIL,
        id="smallest whatever the order",
    ),
    pytest.param(
        (result("imports", finding("PF302", Severity.WARNING)),),
        {},
        0,
        Status.WARN,
        id="warning only",
    ),
    pytest.param(
        (result("imports", finding("PF302", Severity.WARNING)),),
        {"strict": True},
        3,
        Status.FAIL,
        id="PF3xx warning under strict",
    ),
    pytest.param(
        (result("imports", finding("PF302", Severity.INFO)),),
        {},
        0,
        Status.PASS,
        id="info",
    ),
    pytest.param(
        (result("imports", finding("PF302", Severity.INFO)),),
        {"strict": True},
        0,
        Status.PASS,
        id="info under strict",
    ),
    pytest.param((_timed_out("database"),), {}, 7, Status.FAIL, id="database timeout"),
    pytest.param(
        (result("imports", finding("PF301")), _timed_out("database")),
        {},
        3,
        Status.FAIL,
        id="database timeout and imports error",
    ),
    pytest.param(
        (CheckResult("lifespan", Status.TIMEOUT, "did not finish"),),
        {},
        4,
        Status.FAIL,
        id="lifespan timeout without finding",
    ),
    pytest.param((result("app", finding("PF7001")),), {}, 70, Status.FAIL, id="PF7001 alone"),
    pytest.param(
        (result("imports", finding("PF302")),),
        {"interrupted": ExitCode.SIGTERM},
        143,
        Status.FAIL,
        id="SIGTERM with findings",
    ),
    pytest.param(
        (result("imports"),),
        {"interrupted": ExitCode.SIGTERM},
        143,
        Status.FAIL,
        id="SIGTERM without findings",
    ),
    pytest.param((), {"interrupted": ExitCode.SIGINT}, 130, Status.FAIL, id="SIGINT"),
]


@pytest.mark.parametrize(("checks", "options", "exit_code", "status"), EXIT_CODE_CASES)
def test_report_exit_code(checks, options, exit_code, status):
    outcome = report(*checks, **options)
    assert outcome.exit_code == exit_code
    assert outcome.status is status
    assert outcome.to_dict()["exit_code"] == exit_code
    assert outcome.to_dict()["status"] == status.value


def test_report_findings_are_in_check_order():
    first, second, third = finding("PF301"), finding("PF302"), finding("PF700")
    outcome = report(result("imports", first, second), result("database", third))
    assert outcome.findings == (first, second, third)


# --- Report JSON ---------------------------------------------------------------------------


def test_report_to_dict_has_the_spec_shape():
    imports = CheckResult.from_findings(
        "imports",
        [finding("PF302", chain=("service.main", "service.app_factory"), line=23)],
        "1 broken import in 311 modules",
        {"modules": 311, "edges": 2450},
    ).stamped(180)
    skipped = CheckResult.skipped("database", "no database configured")
    as_dict = report(imports, skipped).to_dict()

    assert list(as_dict) == [
        "schema",
        "version",
        "status",
        "exit_code",
        "app",
        "budget_ms",
        "duration_ms",
        "checks",
        "findings",
    ]
    assert as_dict["schema"] == "preflight.report/1"
    assert as_dict["version"] == __version__
    assert as_dict["status"] == "fail"
    assert as_dict["exit_code"] == 3
    assert as_dict["app"] == "service.main:app"
    assert as_dict["budget_ms"] == 15_000
    assert as_dict["duration_ms"] == 412
    assert as_dict["checks"] == [
        {
            "name": "imports",
            "status": "fail",
            "duration_ms": 180,
            "summary": "1 broken import in 311 modules",
            "metrics": {"modules": 311, "edges": 2450},
        },
        {
            "name": "database",
            "status": "skip",
            "duration_ms": 0,
            "summary": "no database configured",
            "metrics": {},
        },
    ]
    assert len(as_dict["findings"]) == 1
    assert as_dict["findings"][0]["code"] == "PF302"
    assert as_dict["findings"][0]["chain"] == ["service.main", "service.app_factory"]
    assert set(as_dict["findings"][0]) == FINDING_KEYS


def test_report_to_dict_app_is_none_when_not_configured():
    outcome = Report(checks=(), app=None, budget_ms=500, duration_ms=3)
    assert outcome.to_dict()["app"] is None
    assert outcome.to_dict()["findings"] == []


# --- The catalogue -------------------------------------------------------------------------


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda entry: entry.code)
def test_catalogue_entry_is_well_formed(entry):
    assert re.fullmatch(r"PF\d{3,4}", entry.code)
    assert len(entry.meaning) < 80
    assert entry.meaning
    assert entry.check in CHECK_NAMES or entry.check == "*"
    assert entry.exit_code == exit_code_of(entry.code)
    assert entry.exit_code in set(ExitCode)
    assert lookup(entry.code) is entry


#: SPEC: the exit code names the class of the failure, whichever check found it. An
#: ImportError that the app check's real import meets is import-class (exit 3).
CROSS_STAGE_CODES = {"PF310"}


@pytest.mark.parametrize(
    "entry",
    [e for e in CATALOGUE if e.check in CHECK_NAMES and e.code not in CROSS_STAGE_CODES],
    ids=lambda entry: entry.code,
)
def test_catalogue_code_encodes_its_checks_exit_code(entry):
    assert exit_code_of(entry.code) == CHECK_EXIT_CODES[entry.check]


def test_cross_stage_codes_are_import_class_findings_of_the_app_check():
    assert [(lookup(code).check, lookup(code).exit_code) for code in CROSS_STAGE_CODES] == [
        ("app", ExitCode.IMPORTS)
    ]


def test_catalogue_codes_are_unique():
    codes = [entry.code for entry in CATALOGUE]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("code", ["PF301", "PF302", "PF303", "PF304"])
def test_spec_import_codes_exist(code):
    entry = lookup(code)
    assert entry.check == "imports"
    assert entry.severity is Severity.ERROR
    assert entry.exit_code == ExitCode.IMPORTS


def test_exit_code_of_reads_the_digits_before_the_last_two():
    assert exit_code_of("PF302") == 3
    assert exit_code_of("PF900") == 9
    assert exit_code_of("PF7001") == 70
