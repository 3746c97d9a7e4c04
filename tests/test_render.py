"""Renderers: the console report, the JSON report and the code tables, from hand-built Reports."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from samples import BROKEN_IMPORT, LAZY_IMPORT

from preflight.codes import CATALOGUE, EXIT_CODE_MEANINGS, ExitCode, Severity
from preflight.render import render, render_console, render_json
from preflight.render.codes import render_codes
from preflight.report import CheckResult, Finding, Report, Status

ANSI = "\x1b["
#: The render tests show a three-hop chain and a finding without line, chain or hint.
BROKEN = replace(BROKEN_IMPORT, chain=(*BROKEN_IMPORT.chain, "service.middleware.websocket"))
LAZY = replace(LAZY_IMPORT, line=None, chain=(), hint=None)


def failing_report() -> Report:
    imports = CheckResult.from_findings(
        "imports",
        [BROKEN, LAZY],
        "2 broken imports in 311 modules",
        {"modules": 311, "edges": 2450},
    ).stamped(180)
    app = CheckResult.from_findings("app", [], "service.main:app is an ASGI app").stamped(40)
    database = CheckResult(
        "database",
        Status.TIMEOUT,
        "no answer within 5s",
        (Finding("PF700", "database", Severity.ERROR, "database did not answer"),),
    ).stamped(5000)
    services = CheckResult.skipped("services", "no services configured")
    return Report(
        checks=(imports, app, database, services),
        app="service.main:app",
        budget_ms=15_000,
        duration_ms=5230,
    )


def passing_report() -> Report:
    return Report(
        checks=(
            CheckResult.from_findings("imports", [], "311 modules").stamped(180),
            CheckResult.skipped("database", "no database configured"),
        ),
        app="service.main:app",
        budget_ms=500,
        duration_ms=200,
    )


# --- console -------------------------------------------------------------------------------


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def test_console_has_one_line_per_check_with_its_status_word():
    text = render_console(failing_report(), color=False)
    by_check = {
        name: next(line for line in lines_of(text) if line.split()[1:2] == [name])
        for name in ("imports", "app", "database", "services")
    }
    assert by_check["imports"].startswith("FAIL")
    assert "2 broken imports in 311 modules" in by_check["imports"]
    assert "180 ms" in by_check["imports"]
    assert by_check["app"].startswith("PASS")
    assert by_check["database"].startswith("TIMEOUT")
    assert by_check["services"].startswith("SKIP")
    assert "no services configured" in by_check["services"]


def test_console_shows_a_finding_with_location_chain_and_hint():
    lines = lines_of(render_console(failing_report(), color=False))
    start = lines.index(
        "PF302 error: cannot import name 'websocket_auth_middleware' "
        "from 'service.middleware.websocket'"
    )
    assert lines[start + 1 : start + 7] == [
        "at service/app_factory.py:23",
        "chain:",
        "service.main",
        "-> service.app_factory",
        "-> service.middleware.websocket",
        "hint: did you mean 'WebSocketAuthMiddleware'?",
    ]


def test_console_shows_a_finding_without_line_or_chain():
    lines = lines_of(render_console(failing_report(), color=False))
    start = lines.index("PF301 warning: No module named 'auth_service'")
    assert lines[start + 1] == "at service/routes.py"
    assert lines[start + 2] != "chain:"
    assert not lines[start + 2].startswith("hint:")


def test_console_chain_hops_are_one_per_line_in_order():
    text = render_console(failing_report(), color=False)
    raw = text.splitlines()
    chain_at = next(i for i, line in enumerate(raw) if line.strip() == "chain:")
    hops = raw[chain_at + 1 : chain_at + 4]
    assert [hop.strip() for hop in hops] == [
        "service.main",
        "-> service.app_factory",
        "-> service.middleware.websocket",
    ]
    assert not hops[0].strip().startswith("->")


def test_console_failing_verdict_names_the_exit_code_and_its_meaning():
    text = render_console(failing_report(), color=False)
    verdict = next(line for line in text.splitlines() if "PREFLIGHT" in line)
    assert verdict.startswith("PREFLIGHT FAILED: exit 3")
    assert EXIT_CODE_MEANINGS[ExitCode.IMPORTS] in verdict
    assert "PREFLIGHT PASSED" not in text


@pytest.mark.parametrize(
    ("interrupted", "verdict"),
    [
        (ExitCode.SIGTERM, "PREFLIGHT FAILED: exit 143 (interrupted by SIGTERM)"),
        (ExitCode.SIGINT, "PREFLIGHT FAILED: exit 130 (interrupted by SIGINT)"),
    ],
)
def test_console_verdict_of_an_interrupted_run(interrupted, verdict):
    report = Report(
        checks=passing_report().checks,
        app=None,
        budget_ms=500,
        duration_ms=1,
        interrupted=interrupted,
    )
    assert verdict in render_console(report, color=False).splitlines()


def test_console_passing_report_ends_with_passed():
    text = render_console(passing_report(), color=False)
    last = text.rstrip("\n").splitlines()[-1]
    assert last.startswith("PREFLIGHT PASSED")
    assert "FAILED" not in text


def test_console_warning_only_report_passes_with_warnings():
    report = Report(
        checks=(CheckResult.from_findings("imports", [LAZY], "1 lazy import"),),
        app="service.main:app",
        budget_ms=15_000,
        duration_ms=10,
    )
    last = render_console(report, color=False).rstrip("\n").splitlines()[-1]
    assert last.startswith("PREFLIGHT PASSED with warnings")


@pytest.mark.parametrize("report", [failing_report(), passing_report()], ids=["fail", "pass"])
def test_console_without_colour_has_no_ansi_and_is_ascii(report):
    text = render_console(report, color=False)
    assert ANSI not in text
    assert text.isascii()
    assert text.endswith("\n")


@pytest.mark.parametrize("report", [failing_report(), passing_report()], ids=["fail", "pass"])
def test_console_with_colour_has_ansi(report):
    text = render_console(report, color=True)
    assert ANSI in text
    assert "PREFLIGHT" in text


def test_console_header_names_app_and_budget():
    header = render_console(failing_report(), color=False).splitlines()[0]
    assert "service.main:app" in header
    assert "15s" in header
    assert "5230 ms" in header


def test_render_dispatches_on_format():
    report = failing_report()
    assert render(report, "json") == render_json(report)
    assert render(report, "console") == render_console(report, color=False)


# --- JSON ----------------------------------------------------------------------------------


@pytest.mark.parametrize("report", [failing_report(), passing_report()], ids=["fail", "pass"])
def test_json_round_trips_to_the_report_dict(report):
    assert json.loads(render_json(report)) == report.to_dict()


def test_json_keeps_non_ascii_text():
    finding = Finding("PF301", "imports", Severity.ERROR, "No module named 'caf\u00e9'")
    report = Report(
        checks=(CheckResult.from_findings("imports", [finding]),),
        app=None,
        budget_ms=1000,
        duration_ms=1,
    )
    rendered = render_json(report)
    assert json.loads(rendered)["findings"][0]["message"] == "No module named 'caf\u00e9'"


# --- code tables ---------------------------------------------------------------------------


def test_codes_markdown_lists_every_finding_code_and_exit_code():
    text = render_codes("markdown")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    first_cells = {row.split("|")[1].strip() for row in rows}
    for entry in CATALOGUE:
        assert entry.code in first_cells
    for code in ExitCode:
        assert str(int(code)) in first_cells
    assert "| PF302 | error | imports |" in text


def test_codes_json_has_exit_codes_and_finding_codes():
    tables = json.loads(render_codes("json"))
    assert {row["code"] for row in tables["exit_codes"]} == {int(code) for code in ExitCode}
    assert [row["code"] for row in tables["finding_codes"]] == [e.code for e in CATALOGUE]
    pf302 = next(row for row in tables["finding_codes"] if row["code"] == "PF302")
    assert pf302["check"] == "imports"
    assert pf302["severity"] == "error"


def test_codes_text_mentions_pf302():
    text = render_codes("text")
    assert "PF302" in text
    assert "143" in text
    assert text.isascii()
