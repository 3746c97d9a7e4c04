"""The bind check: the server `run` execs listens on all interfaces at $PORT (PF421, PF422)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
from conftest import child_env, run_preflight

from preflight.checks.bind import BindCheck
from preflight.codes import Severity
from preflight.config import Config
from preflight.report import CheckResult, Report, Status
from preflight.runner import run_checks

VENV_BIN = str(Path(sys.executable).parent)


async def check(
    command: str | list[str], environ: dict[str, str] | None = None, *, strict: bool = False
) -> tuple[CheckResult, Report]:
    """Run only the bind check on `command` through the real runner."""
    argv = tuple(shlex.split(command) if isinstance(command, str) else command)
    config = Config.model_validate({"strict": strict})
    report = await run_checks(config, [BindCheck()], environ=environ or {}, command=argv)
    return next(r for r in report.checks if r.name == "bind"), report


def codes(result: CheckResult) -> list[str]:
    return [finding.code for finding in result.findings]


@pytest.mark.asyncio
async def test_loopback_host_is_a_warning_that_fails_only_under_strict() -> None:
    result, report = await check("uvicorn app:app --host 127.0.0.1 --port 8080")
    assert result.status is Status.WARN
    (finding,) = result.findings
    assert finding.code == "PF421"
    assert finding.severity is Severity.WARNING
    assert "127.0.0.1:8080" in finding.message
    assert "--host" in finding.message  # says where the host came from
    assert finding.hint is not None
    assert "--host 0.0.0.0" in finding.hint
    assert report.exit_code == 0
    _, strict = await check("uvicorn app:app --host 127.0.0.1 --port 8080", strict=True)
    assert strict.exit_code == 4


@pytest.mark.asyncio
async def test_a_port_other_than_PORT_is_PF422_naming_both_ports() -> None:  # noqa: N802
    result, _ = await check("uvicorn app:app --host 0.0.0.0", {"PORT": "8080"})
    (finding,) = result.findings
    assert finding.code == "PF422"
    assert "port 8000" in finding.message
    assert "uvicorn's default" in finding.message
    assert "$PORT is 8080" in finding.message


@pytest.mark.asyncio
async def test_uvicorn_defaults_break_both_rules() -> None:
    result, _ = await check("uvicorn app:app", {"PORT": "8080"})
    assert codes(result) == ["PF421", "PF422"]


@pytest.mark.parametrize(
    ("command", "environ"),
    [
        pytest.param("uvicorn app:app --host 0.0.0.0 --port 8080", {"PORT": "8080"}, id="uvicorn"),
        pytest.param("gunicorn app:app", {"PORT": "8080"}, id="gunicorn-default-with-PORT"),
        pytest.param("fastapi run --port 8080", {"PORT": "8080"}, id="fastapi-run"),
        pytest.param("uvicorn app:app --host 0.0.0.0 --port 9000", {}, id="no-PORT-any-port"),
        pytest.param("gunicorn app:app -b 127.0.0.1:9000 -b 0.0.0.0:8080", {"PORT": "8080"},
                     id="one-bind-serves-the-platform"),
        pytest.param("uvicorn app:app --uds /run/app.sock", {"PORT": "8080"}, id="unix-socket"),
        pytest.param(["sh", "-c", "exec gunicorn app:app -b 0.0.0.0:$PORT"], {"PORT": "8080"},
                     id="sh-c"),
    ],
)  # fmt: skip
@pytest.mark.asyncio
async def test_binds_that_meet_the_contract_pass_without_findings(
    command: str | list[str], environ: dict[str, str]
) -> None:
    result, _ = await check(command, environ)
    assert result.status is Status.PASS, result.findings
    assert result.findings == ()


@pytest.mark.asyncio
async def test_an_invalid_PORT_is_reported_without_echoing_it() -> None:  # noqa: N802
    result, _ = await check("uvicorn app:app --host 0.0.0.0 --port 8080", {"PORT": "eighty"})
    (finding,) = result.findings
    assert finding.code == "PF422"
    assert "not a port number" in finding.message
    assert "eighty" not in json.dumps(finding.to_dict())


@pytest.mark.parametrize(
    ("command", "environ", "says", "hint"),
    [
        pytest.param(["sh", "-c", "exec gunicorn app:app -b :$PORT"], {},
                     "gunicorn's port is $PORT, and PORT is not set", "${PORT:-8080}",
                     id="sh-c-PORT-unset"),
        pytest.param(["sh", "-c", 'exec uvicorn app:app --host 0.0.0.0 --port "${PORT}"'], {},
                     "uvicorn's port is ${PORT}, and PORT is not set", "set PORT",
                     id="sh-c-braced-PORT-unset"),
        pytest.param("uvicorn app:app --host 0.0.0.0 --port $PORT", {"PORT": "8080"},
                     "no shell runs an exec-form CMD", '["sh", "-c", "exec', id="exec-form"),
        pytest.param(["gunicorn", "app:app"],
                     {"PORT": "8080", "GUNICORN_CMD_ARGS": "--bind=0.0.0.0:$PORT"},
                     "(from GUNICORN_CMD_ARGS): nothing expands variables there",
                     "write the port number", id="GUNICORN_CMD_ARGS"),
        pytest.param(["gunicorn", "app:app", "-b", "0.0.0.0:http"], {"PORT": "8080"},
                     "will listen on '0.0.0.0:http', whose port is not a number",
                     '--bind "0.0.0.0:$PORT"', id="not-a-number"),
    ],
)  # fmt: skip
@pytest.mark.asyncio
async def test_a_port_that_is_not_a_number_says_why_the_server_will_not_start(
    command: str | list[str], environ: dict[str, str], says: str, hint: str
) -> None:
    # A `$PORT` no shell expanded (exec-form CMD, a variable) or one that is not set makes the
    # server exit at once; with PORT unset this used to pass, and the message did not parse.
    result, _ = await check(command, environ)
    (finding,) = result.findings
    assert finding.code == "PF422"
    assert says in finding.message
    assert finding.hint is not None
    assert hint in finding.hint


def test_run_predicts_the_failure_of_a_PORT_that_is_not_set(tmp_path: Path) -> None:  # noqa: N802
    """A real `run` and a real uvicorn: the warning says what uvicorn then fails on."""
    env = child_env(TMPDIR=str(tmp_path), PATH=f"{VENV_BIN}:{child_env()['PATH']}")
    env.pop("PORT", None)
    done = run_preflight(
        "run", "--", "sh", "-c", "exec uvicorn app:app --host 0.0.0.0 --port $PORT",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    findings = [e for e in events if e["message"] == "check.finding"]
    assert [(e["code"], e["severity"]) for e in findings] == [("PF422", "WARNING")]
    assert "PORT is not set" in findings[0]["detail"]
    assert done.returncode == 2  # uvicorn's usage error: `--port` got no value
    assert "'--port' requires an argument" in done.stderr


@pytest.mark.asyncio
async def test_a_config_file_bind_is_reported_with_its_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "gunicorn.conf.py").write_text("workers = 2\nbind = 'localhost:8080'\n")
    monkeypatch.chdir(tmp_path)
    result, _ = await check("gunicorn service.main:app", {"PORT": "8080"})
    (finding,) = result.findings
    assert (finding.code, finding.file, finding.line) == ("PF421", "gunicorn.conf.py", 2)


@pytest.mark.asyncio
async def test_a_bind_that_cannot_be_read_passes_and_says_why(tmp_path: Path) -> None:
    result, _ = await check("gunicorn -c python:conf.gunicorn app:app", {"PORT": "8080"})
    assert result.status is Status.PASS
    assert "cannot be read" in result.summary
    assert "python:conf.gunicorn" in result.summary


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        pytest.param((), "only `preflight run -- CMD`", id="no-command"),
        pytest.param(("node", "server.js"), "CMD ('node') runs none", id="other-program"),
    ],
)
@pytest.mark.asyncio
async def test_skipped_without_a_server_command(command: tuple[str, ...], reason: str) -> None:
    result, _ = await check(list(command))
    assert result.status is Status.SKIP
    assert reason in result.summary


def test_check_reports_bind_as_skipped(tmp_path: Path) -> None:
    done = run_preflight("check", "--only", "bind", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (bind,) = [c for c in json.loads(done.stdout)["checks"] if c["name"] == "bind"]
    assert bind["status"] == "skip"


def test_run_with_host_127_0_0_1_warns_then_execs_the_server(tmp_path: Path) -> None:
    """A real `run`: the warning is logged, and (not strict) the real uvicorn still starts."""
    env = child_env(TMPDIR=str(tmp_path), PORT="8080", PATH=f"{VENV_BIN}:{child_env()['PATH']}")
    done = run_preflight(
        "run", "--", "uvicorn", "--version", "--host", "127.0.0.1", "--port", "8080",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Running uvicorn")  # the exec'd server printed this
    findings = [e for e in done.events() if e["message"] == "check.finding"]
    assert [(e["code"], e["severity"]) for e in findings] == [("PF421", "WARNING")]
    report = json.loads((tmp_path / "preflight" / "report.json").read_text())
    assert [f["code"] for f in report["findings"]] == ["PF421"]


def test_run_strict_with_host_127_0_0_1_exits_4_and_never_starts_the_server(
    tmp_path: Path,
) -> None:
    env = child_env(TMPDIR=str(tmp_path), PATH=f"{VENV_BIN}:{child_env()['PATH']}")
    done = run_preflight(
        "run", "--strict", "--", "uvicorn", "--version", "--host", "localhost", cwd=tmp_path,
        env=env,
    )  # fmt: skip
    assert done.returncode == 4
    assert "Running uvicorn" not in done.stdout
    report = json.loads(done.stdout)
    assert [f["code"] for f in report["findings"]] == ["PF421"]
