"""The failure summary: the termination-message file and the final ERROR event.

Unit tests build reports by hand; the process tests run the real `preflight check` / `run`
on real app trees under tmp_path and read the file and stderr they leave.
"""

from __future__ import annotations

import json
import socket
from typing import TYPE_CHECKING

import pytest
from conftest import child_env, run_preflight

from preflight import termination
from preflight.codes import Severity
from preflight.report import CheckResult, Finding, Report

if TYPE_CHECKING:
    from pathlib import Path

SECRET = "s3cr3t-Pa55"  # noqa: S105 - a fake password the outputs must not show


def report_with(*findings: Finding) -> Report:
    by_check: dict[str, list[Finding]] = {}
    for finding in findings:
        by_check.setdefault(finding.check, []).append(finding)
    checks = tuple(CheckResult.from_findings(name, found) for name, found in by_check.items())
    return Report(checks=checks, app="svc.main:app", budget_ms=15_000, duration_ms=12)


def missing(n: int, name: str = "mod") -> Finding:
    return Finding(
        code="PF301",
        check="imports",
        severity=Severity.ERROR,
        message=f"No module named '{name}_{n}'",
        module=f"{name}_{n}",
        file="svc/main.py",
        line=n,
        hint="add it to the image",
    )


# --- the summary -------------------------------------------------------------------------------


def test_summary_names_stage_code_and_each_failing_finding_on_one_line() -> None:
    refused = Finding(
        "PF701", "database", Severity.ERROR, "connection refused:\n  postgresql://app@db/app"
    )
    lazy = Finding("PF301", "imports", Severity.WARNING, "lazy import of 'x' is missing")
    text = termination.summary(report_with(refused, missing(1), lazy))
    lines = text.splitlines()
    assert lines[0] == "preflight: imports failed (exit 3): 2 failing findings"
    # earliest stage first; the warning does not fail the run, so it is not listed
    assert lines[1] == (
        "PF301 imports: No module named 'mod_1' [svc/main.py:1] hint: add it to the image"
    )
    assert lines[2] == "PF701 database: connection refused: postgresql://app@db/app"
    assert len(lines) == 3
    assert text.endswith("\n")


def test_hundreds_of_findings_fit_in_4096_bytes_and_say_how_many_more(tmp_path: Path) -> None:
    report = report_with(*(missing(n, "a_rather_long_module_name" * 3) for n in range(500)))
    text = termination.summary(report, report_path=tmp_path / "report.json")
    data = text.encode("utf-8")
    assert len(data) <= termination.LIMIT_BYTES
    lines = text.splitlines()
    shown = sum(1 for line in lines if line.startswith("PF301"))
    assert 5 < shown < 500
    assert lines[-1] == f"... and {500 - shown} more: full report in {tmp_path / 'report.json'}"


def test_multibyte_text_is_cut_at_a_character_boundary() -> None:
    huge = Finding("PF401", "app", Severity.ERROR, "ошибка 💥 " * 2000)
    text = termination.summary(report_with(*(huge for _ in range(20))))
    data = text.encode("utf-8")
    assert len(data) <= termination.LIMIT_BYTES
    assert data.decode("utf-8") == text  # valid UTF-8 throughout
    assert all(len(line.encode()) <= termination.LINE_BYTES for line in text.splitlines()[1:])


def test_a_password_never_reaches_the_summary() -> None:
    finding = Finding(
        "PF703", "database", Severity.ERROR, f"auth failed: postgresql://app:{SECRET}@db/app"
    )
    text = termination.summary(report_with(finding))
    assert SECRET not in text
    assert "postgresql://app:***@db/app" in text


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (3, "imports failed (exit 3)"),
        (7, "database failed (exit 7)"),
        (70, "internal error (exit 70)"),
        (143, "interrupted by SIGTERM (exit 143)"),
        (99, "exit 99 failed (exit 99)"),
    ],
)
def test_headline(code: int, expected: str) -> None:
    assert termination.headline(code) == expected


# --- where it is written ---------------------------------------------------------------------


def test_a_chosen_path_is_created_and_truncated(tmp_path: Path) -> None:
    path = tmp_path / "termination-log"
    path.write_text("an old, much longer message from an earlier start\n" * 10)
    assert termination.write(str(path), "new\n") is None
    assert path.read_text() == "new\n"
    path.unlink()
    assert termination.write(str(path), "created\n") is None
    assert path.read_text() == "created\n"


def test_a_chosen_path_in_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    error = termination.write(str(tmp_path / "no" / "such" / "log"), "x")
    assert isinstance(error, FileNotFoundError)


def test_empty_setting_disables() -> None:
    assert termination.destination("") is None
    assert termination.write("", "x") is None


def test_the_default_path_is_written_only_when_it_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = tmp_path / "termination-log"
    monkeypatch.setattr(termination, "DEFAULT_PATH", str(default))
    assert termination.write(str(default), "x\n") is None
    assert not default.exists()  # outside Kubernetes: nothing created, no error
    default.touch()
    assert termination.write(str(default), "written\n") is None
    assert default.read_text() == "written\n"
    default.chmod(0o444)
    assert termination.write(str(default), "again\n") is None  # not writable: skipped quietly


# --- real processes ---------------------------------------------------------------------------
# The database check with a DSN that is not PostgreSQL's fails at once (PF705, exit 7); services
# at a closed local port fail after the 1 s budget (PF801 each, exit 8): no server needed.

BAD_DSN = child_env(DATABASE_URL="mysql://app@127.0.0.1/app")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def configure(root: Path, *, services: int = 0, **config: str) -> Path:
    """A preflight.toml selecting the database check (and `services` dead dependencies)."""
    lines = ['only = ["database", "services"]', 'budget = "1s"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in config.items()]
    port = closed_port()
    for n in range(services):
        lines += ["[[services]]", f'name = "dependency-{n}"', f'url = "tcp://127.0.0.1:{port}"']
    (root / "preflight.toml").write_text("\n".join(lines) + "\n")
    return root


def test_hundreds_of_failures_write_at_most_4096_bytes_and_end_with_one_error_event(
    tmp_path: Path,
) -> None:
    log = tmp_path / "termination-log"
    configure(tmp_path, services=200, termination_log=str(log))
    done = run_preflight("check", cwd=tmp_path)
    assert done.returncode == 8, done.stderr[-2000:]
    text = log.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= 4096
    assert text.startswith("preflight: services failed (exit 8): 200 failing findings\n")
    findings = text.splitlines()[1:-1]
    # Refused at once, or (on a loaded machine, as the 1 s budget ends) timed out: one line each.
    assert findings
    assert all(line.startswith(("PF801 services: ", "PF802 services: ")) for line in findings)
    assert text.splitlines()[-1].startswith("... and ")

    last = json.loads(done.stderr.splitlines()[-1])
    assert last["severity"] == "ERROR"
    assert last["message"] == "preflight.finished: services failed (exit 8)"
    assert last["exit_code"] == 8
    assert last["stage"] == "services"
    assert last["@type"].endswith("clouderrorreporting.v1beta1.ReportedErrorEvent")


def test_the_earliest_stage_names_the_failure(tmp_path: Path) -> None:
    log = tmp_path / "termination-log"
    configure(tmp_path, services=1, termination_log=str(log))
    done = run_preflight("check", cwd=tmp_path, env=BAD_DSN)
    assert done.returncode == 7
    lines = log.read_text().splitlines()
    assert lines[0] == "preflight: database failed (exit 7): 2 failing findings"
    assert [line.split()[0] for line in lines[1:]] == ["PF705", "PF801"]
    last = json.loads(done.stderr.splitlines()[-1])
    assert last["message"] == "preflight.finished: database failed (exit 7)"


def test_run_that_fails_writes_the_file_and_never_starts_the_command(tmp_path: Path) -> None:
    log, marker = tmp_path / "termination-log", tmp_path / "started"
    configure(tmp_path, termination_log=str(log))
    done = run_preflight(
        "run", "--report", str(tmp_path / "r.json"), "--", "touch", str(marker),
        cwd=tmp_path, env=BAD_DSN,
    )  # fmt: skip
    assert done.returncode == 7
    assert not marker.exists()
    assert log.read_text().startswith("preflight: database failed (exit 7): 1 failing finding\n")
    last = json.loads(done.stderr.splitlines()[-1])
    assert (last["severity"], last["message"]) == (
        "ERROR",
        "preflight.finished: database failed (exit 7)",
    )


def test_not_written_on_pass(tmp_path: Path) -> None:
    log = tmp_path / "termination-log"
    configure(tmp_path, termination_log=str(log))  # no DSN: the database check skips
    done = run_preflight("check", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not log.exists()
    last = json.loads(done.stderr.splitlines()[-1])
    assert (last["severity"], last["message"]) == ("INFO", "preflight.finished")


@pytest.mark.parametrize("how", ["file", "env"])
def test_an_empty_setting_disables_it(tmp_path: Path, how: str) -> None:
    log = tmp_path / "termination-log"
    log.touch()
    configure(tmp_path, termination_log=str(log))
    if how == "file":
        configure(tmp_path, termination_log="")
        env = BAD_DSN
    else:
        env = {**BAD_DSN, "PREFLIGHT_TERMINATION_LOG": ""}
    done = run_preflight("check", cwd=tmp_path, env=env)
    assert done.returncode == 7
    assert log.read_text() == ""
    assert "termination_log" not in done.stderr


def test_an_unwritable_chosen_path_is_a_warning_and_the_error_event_stays_last(
    tmp_path: Path,
) -> None:
    configure(tmp_path, termination_log=str(tmp_path / "missing-dir" / "log"))
    done = run_preflight("check", cwd=tmp_path, env=BAD_DSN)
    assert done.returncode == 7
    events = done.events()
    warning = next(e for e in events if e["message"] == "termination_log.not_written")
    assert warning["severity"] == "WARNING"
    assert events[-1]["message"] == "preflight.finished: database failed (exit 7)"


def test_no_password_in_the_file_or_on_stderr(tmp_path: Path) -> None:
    log = tmp_path / "termination-log"
    configure(tmp_path, termination_log=str(log))
    dsn = f"postgresql://app:{SECRET}@127.0.0.1:{closed_port()}/app"
    done = run_preflight("check", cwd=tmp_path, env=child_env(DATABASE_URL=dsn))
    assert done.returncode == 7
    text = log.read_text()
    assert text.startswith("preflight: database failed (exit 7)")
    assert "PF701" in text
    for output in (text, done.stdout, done.stderr):
        assert SECRET not in output
    assert json.loads(done.stderr.splitlines()[-1])["message"] == (
        "preflight.finished: database failed (exit 7)"
    )
