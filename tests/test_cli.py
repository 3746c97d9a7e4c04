"""The command line through click's CliRunner: outputs, exit codes, bad input, the report file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from samples import BROKEN_IMPORT, LAZY_IMPORT, CheckDouble

import preflight.checks
import preflight.render
from preflight import __version__
from preflight.cli import main
from preflight.codes import CATALOGUE, ExitCode
from preflight.report import CheckResult, Finding

if TYPE_CHECKING:
    from pathlib import Path

    from preflight.checks.base import CheckContext


@dataclass
class Finds(CheckDouble):
    """A check that reports fixed findings (stands for a real check in CLI plumbing tests)."""

    findings: tuple[Finding, ...] = ()

    async def run(self, ctx: CheckContext) -> CheckResult:
        return CheckResult.from_findings(self.name, self.findings, "checked")


BROKEN, LAZY = BROKEN_IMPORT, LAZY_IMPORT


def invoke(*args: str, cwd: Path, registry: tuple[object, ...] = ()) -> tuple[int, str, str]:
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(preflight.checks, "REGISTRY", registry)
        patch.chdir(cwd)
        result = runner.invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"preflight {__version__}\n"


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_codes_lists_every_exit_and_finding_code(fmt: str) -> None:
    result = CliRunner().invoke(main, ["codes", "--format", fmt])
    assert result.exit_code == 0
    for entry in CATALOGUE:
        assert entry.code in result.stdout
    for code in ExitCode:
        assert str(int(code)) in result.stdout


def test_check_with_nothing_built_passes_and_says_why_each_check_skipped(tmp_path: Path) -> None:
    code, out, err = invoke("check", "--format", "json", "--log-format", "json", cwd=tmp_path)
    assert code == 0
    report = json.loads(out)
    assert report["status"] == "pass"
    assert {c["status"] for c in report["checks"]} == {"skip"}
    assert all(c["summary"] for c in report["checks"])
    events = [json.loads(line) for line in err.splitlines()]
    assert events[-1]["message"] == "preflight.finished"
    assert events[-1]["exit_code"] == 0


def test_a_failing_check_exits_with_its_code_and_renders_console(tmp_path: Path) -> None:
    registry = (Finds("imports", (BROKEN,)), Finds("database"))
    code, out, err = invoke("check", "--format", "console", cwd=tmp_path, registry=registry)
    assert code == 3
    assert "PF302 error: cannot import name 'websocket_auth_middleware'" in out
    assert "at service/app_factory.py:23" in out
    assert "-> service.app_factory" in out
    assert "hint: did you mean 'WebSocketAuthMiddleware'?" in out
    assert "PREFLIGHT FAILED: exit 3" in out
    finding_events = [json.loads(line) for line in err.splitlines() if '"check.finding"' in line]
    assert [(e["severity"], e["code"], e["line"]) for e in finding_events] == [
        ("ERROR", "PF302", 23)
    ]


def test_strict_from_flag_env_and_file(tmp_path: Path) -> None:
    registry = (Finds("imports", (LAZY,)),)
    assert invoke("check", cwd=tmp_path, registry=registry)[0] == 0
    assert invoke("check", "--strict", cwd=tmp_path, registry=registry)[0] == 3
    (tmp_path / "preflight.toml").write_text("strict = true\n")
    assert invoke("check", cwd=tmp_path, registry=registry)[0] == 3
    assert invoke("check", "--no-strict", cwd=tmp_path, registry=registry)[0] == 0


def test_only_and_skip_select_checks(tmp_path: Path) -> None:
    registry = (Finds("imports", (BROKEN,)), Finds("database"))
    code, out, _ = invoke("check", "--skip", "imports", "--format", "json", cwd=tmp_path,
                          registry=registry)  # fmt: skip
    assert code == 0
    statuses = {c["name"]: c["status"] for c in json.loads(out)["checks"]}
    assert statuses["imports"] == "skip"
    assert statuses["database"] == "pass"
    code, out, _ = invoke("check", "--only", "database", "--format", "json", cwd=tmp_path,
                          registry=registry)  # fmt: skip
    assert code == 0
    assert {c["name"] for c in json.loads(out)["checks"] if c["status"] != "skip"} == {"database"}


def test_report_file_is_the_json_report(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    code, out, _ = invoke("check", "--format", "json", "--report", str(target), cwd=tmp_path,
                          registry=(Finds("imports", (BROKEN,)),))  # fmt: skip
    assert code == 3
    assert json.loads(target.read_text()) == json.loads(out)
    assert not list(target.parent.glob(".*.tmp"))


def test_an_unwritable_report_path_is_logged_and_the_verdict_stands(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = invoke("check", "--report", str(blocker / "report.json"), cwd=tmp_path)
    assert code == 0
    assert any(json.loads(line)["message"] == "report.not_written" for line in err.splitlines())


def test_a_crash_outside_the_checks_is_exit_70_with_an_internal_error_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_renderer(*args: object, **kwargs: object) -> str:
        raise ZeroDivisionError

    monkeypatch.setattr(preflight.render, "render", broken_renderer)
    code, out, err = invoke("check", "--format", "console", cwd=tmp_path)
    assert code == 70
    assert out == ""
    events = [json.loads(line) for line in err.splitlines()]
    crash = [e for e in events if e["message"] == "preflight.internal_error"]
    assert len(crash) == 1
    assert "broken_renderer" in crash[0]["traceback"]


BAD_INPUT = [
    pytest.param(["check", "--bugdet", "1s"], None, {}, "--bugdet", id="unknown-flag"),
    pytest.param(["check", "--budget", "soon"], None, {}, "--budget", id="bad-duration-flag"),
    pytest.param(["check", "--format", "xml"], None, {}, "--format", id="bad-choice"),
    pytest.param(["check", "--only", "imprts"], None, {}, "did you mean 'imports'", id="check"),
    pytest.param(["check"], "budget = [\n", {}, "invalid TOML", id="bad-toml"),
    pytest.param(["check"], "bugdet = '1s'\n", {}, "unknown key", id="unknown-key"),
    pytest.param(["check"], "strict = 'maybe'\n", {}, "strict", id="wrong-type"),
    pytest.param(["check"], None, {"PREFLIGHT_BUDGET": "0"}, "PREFLIGHT_BUDGET", id="env"),
    pytest.param(["check", "--config", "missing.toml"], None, {}, "does not exist", id="no-file"),
    pytest.param(["nonsense"], None, {}, "No such command", id="unknown-command"),
]


@pytest.mark.parametrize(("args", "toml", "env", "expected"), BAD_INPUT)
def test_bad_input_exits_2_with_one_error_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    toml: str | None,
    env: dict[str, str],
    expected: str,
) -> None:
    from preflight.__main__ import run_cli  # noqa: PLC0415 - the wrapper the console script uses

    if toml is not None:
        (tmp_path / "preflight.toml").write_text(toml)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    code = run_cli(args)
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("Error: ")
    assert expected in err
