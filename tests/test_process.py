"""preflight as real processes: exit codes, stdout vs stderr, the deadline, signals, exec.

Checks that misbehave (sleep past the budget, block an executor thread, ignore cancellation,
crash) are put into a real child interpreter through `preflight.checks.REGISTRY`, the same
registry the command line reads; everything else in the child is the real program.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import EXAMPLE, REPO, Completed, child_env, run_preflight

#: A child interpreter that swaps the registry for misbehaving checks, then runs the real
#: entry point (shared with benchmarks/deadline.py).
CHILD = str(Path(__file__).with_name("misbehaving_checks.py"))


def run_child(checks: str, *args: str, cwd: Path, **env: str) -> tuple[Completed, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, CHILD, *args],
        cwd=cwd,
        env=child_env(CHECKS=checks, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Completed(done.returncode, done.stdout, done.stderr), time.monotonic() - started


def test_version_and_console_script_agree() -> None:
    module = run_preflight("--version")
    script = Path(sys.executable).parent / "preflight"
    direct = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert module.returncode == direct.returncode == 0
    assert module.stdout == direct.stdout
    assert module.stdout.startswith("preflight ")


def test_example_check_exits_0_with_json_on_stdout_and_json_events_on_stderr() -> None:
    done = run_preflight("check", "--config", str(EXAMPLE / "pyproject.toml"))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # not a TTY: JSON by default
    assert report["schema"] == "preflight.report/1"
    assert report["app"] == "service.main:app"
    events = done.events()  # not a TTY: every stderr line is a JSON event
    assert events[-1]["message"] == "preflight.finished"
    assert all({"timestamp", "severity", "message"} <= event.keys() for event in events)


BAD_INPUT = [
    pytest.param(("check", "--budget", "fast"), {}, "--budget", id="bad-duration-flag"),
    pytest.param(("check",), {"PREFLIGHT_ONLY": "imports,dtabase"}, "dtabase", id="env-check"),
    pytest.param(("check",), {"PREFLIGHT_BUGDET": "3s"}, "PREFLIGHT_BUGDET", id="env-typo"),
    pytest.param(("check", "--strict=maybe"), {}, "--strict", id="flag-value"),
    pytest.param(("check", "--config", "nope.toml"), {}, "nope.toml", id="missing-config"),
    pytest.param(("run",), {}, "CMD", id="run-without-command"),
]


@pytest.mark.parametrize(("args", "env", "expected"), BAD_INPUT)
def test_bad_input_is_one_line_exit_2_never_a_traceback(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    done = run_preflight(*args, cwd=tmp_path, env=child_env(**env))
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("Error: ")
    assert expected in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        pytest.param("[tool.preflight\n", "invalid TOML", id="unparseable"),
        pytest.param("[tool.preflight]\nbudgett = 3\n", "budgett: unknown key", id="unknown-key"),
        pytest.param("[tool.preflight]\nonly = ['imports', 'ap']\n", "'ap'", id="check-name"),
        pytest.param("[tool.preflight.database]\nconnect_timeout = '5 sec'\n", "5 sec", id="dur"),
        pytest.param("[tool.preflight]\nroots = 'src'\nstrict = 3\n", "strict", id="type"),
    ],
)
def test_bad_config_file_is_one_line_naming_file_and_key(
    tmp_path: Path, toml: str, expected: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(toml)
    done = run_preflight("check", cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1
    assert "pyproject.toml" in done.stderr
    assert expected in done.stderr


@pytest.mark.realtime
def test_checks_stuck_far_past_a_1s_budget_end_the_process_promptly(tmp_path: Path) -> None:
    checks = "database=sleeps,services=thread,distributions=stubborn"
    done, elapsed = run_child(checks, "check", "--budget", "1s", cwd=tmp_path)
    # Interpreter start and imports come on top of the budget; 3 s holds on a loaded machine.
    assert elapsed < 3.0, f"took {elapsed:.2f}s"
    assert done.returncode == 7  # database (7) is the earliest stage among 7, 8, 9
    statuses = {c["name"]: c["status"] for c in json.loads(done.stdout)["checks"]}
    assert statuses["database"] == statuses["services"] == "timeout"
    assert statuses["distributions"] == "timeout"
    assert {e["code"] for e in done.events() if e["message"] == "check.finding"} == {
        "PF700",
        "PF800",
        "PF900",
    }


def test_a_crashing_check_is_exit_70_with_a_structured_event_and_no_loose_traceback(
    tmp_path: Path,
) -> None:
    done, _ = run_child("settings=crashes", "check", cwd=tmp_path)
    assert done.returncode == 70
    events = done.events()  # every stderr line parses: no bare traceback
    crash = next(e for e in events if e["message"] == "preflight.internal_error")
    assert crash["severity"] == "ERROR"
    assert "KeyError" in crash["traceback"]
    assert "hunter2" not in done.stderr
    assert "hunter2" not in done.stdout
    assert json.loads(done.stdout)["exit_code"] == 70


@pytest.mark.realtime
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_the_checks_exits_promptly_with_its_code(
    tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    marker = tmp_path / "started"
    child = subprocess.Popen(
        [sys.executable, CHILD, "check", "--budget", "60s"],
        cwd=tmp_path,
        env=child_env(CHECKS="database=sleeps", MARKER=str(marker)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), "the check never started"
    child.send_signal(signum)
    sent = time.monotonic()
    out, err = child.communicate(timeout=30)
    assert time.monotonic() - sent < 2.0
    assert child.returncode == code
    events = [json.loads(line) for line in err.splitlines()]
    assert any(e["message"] == "preflight.interrupted" for e in events)
    assert json.loads(out)["exit_code"] == code


def test_run_execs_the_command_in_place_on_pass(tmp_path: Path) -> None:
    script = "import os, sys; print(os.getpid()); print(' '.join(sys.argv[1:]))"
    child = subprocess.Popen(
        [sys.executable, "-m", "preflight", "run", "--", sys.executable, "-c", script, "a", "b"],
        cwd=tmp_path,
        env=child_env(TMPDIR=str(tmp_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert out.splitlines() == [str(child.pid), "a b"]  # same PID: exec, not a child process
    report = json.loads((tmp_path / "preflight" / "report.json").read_text())
    assert report["status"] == "pass"


def test_run_never_starts_the_command_on_fail(tmp_path: Path) -> None:
    started = tmp_path / "server-started"
    done, _ = run_child(
        "imports=fails", "run", "--", sys.executable, "-c", f"open({str(started)!r}, 'w')",
        cwd=tmp_path, TMPDIR=str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 3
    assert not started.exists()
    # One line: a container's log collector makes every stdout line an entry of its own.
    (line,) = done.stdout.splitlines()
    assert json.loads(line)["exit_code"] == 3
    assert json.loads((tmp_path / "preflight" / "report.json").read_text())["exit_code"] == 3


def test_run_with_a_missing_command_is_127_and_one_line(tmp_path: Path) -> None:
    done = run_preflight("run", "--", "no-such-server-binary", cwd=tmp_path,
                         env=child_env(TMPDIR=str(tmp_path)))  # fmt: skip
    assert done.returncode == 127
    assert done.stderr.splitlines()[-1].startswith("Error: cannot start 'no-such-server-binary'")


def test_disable_skips_the_checks_and_execs_at_once(tmp_path: Path) -> None:
    done, _ = run_child(
        "imports=fails", "run", "--", sys.executable, "-c", "print('served')",
        cwd=tmp_path, PREFLIGHT_DISABLE="1",
    )  # fmt: skip
    assert done.returncode == 0
    assert done.stdout == "served\n"
    assert [e["message"] for e in done.events()] == ["preflight.disabled"]


def test_importing_the_cli_stays_cheap() -> None:
    """`preflight --version` and the CLI module must not pay for the heavy dependencies."""
    probe = "import sys, preflight.cli; print('\\n'.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO
        ).stdout.split()
    )
    heavy = {"asyncpg", "httpx", "pydantic", "pydantic_settings", "structlog", "asyncio", "rich"}
    assert not heavy & loaded


def test_a_run_imports_only_the_checks_it_selects(tmp_path: Path) -> None:
    """`check --only imports` loads the imports check's module and no other check's."""
    (tmp_path / "main.py").write_text("import json\n")
    probe = (
        "import sys\n"
        "from preflight.__main__ import run_cli\n"
        "code = run_cli(['check', '--only', 'imports', '--app', 'main', '--root', sys.argv[1],"
        " '--format', 'json', '--log-format', 'json'])\n"
        "sys.stdout.flush()\n"
        "print(code, *sorted(m for m in sys.modules if m.startswith('preflight.checks.')),"
        " file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env=child_env(),
    )
    code, *modules = done.stderr.strip().splitlines()[-1].split()
    assert code == "0"
    assert modules == ["preflight.checks.base", "preflight.checks.imports"]


def test_report_never_names_a_database_password_from_the_environment(tmp_path: Path) -> None:
    secret = "s3cr3t-Pa55"  # noqa: S105 - planted to prove it never appears
    # Port 1 on 127.0.0.1 refuses: the database check retries, then reports PF701.
    env = child_env(PREFLIGHT_DATABASE__URL=f"postgresql://app:{secret}@127.0.0.1:1/app")
    bad_input = run_preflight("check", "--budget", "nope", cwd=tmp_path, env=env)
    assert bad_input.returncode == 2
    refused = run_preflight("check", "--budget", "1s", cwd=tmp_path, env=env)
    assert refused.returncode == 7
    assert "app:***@127.0.0.1:1" in refused.stdout
    for text in (bad_input.stdout, bad_input.stderr, refused.stdout, refused.stderr):
        assert secret not in text
    assert os.environ.get("PREFLIGHT_DATABASE__URL") is None


def test_run_writes_the_report_where_the_config_file_says(tmp_path: Path) -> None:
    (tmp_path / "preflight.toml").write_text('report = "state/last.json"\n')
    done = run_preflight(
        "run", "--", sys.executable, "-c", "pass", cwd=tmp_path,
        env=child_env(TMPDIR=str(tmp_path / "tmp")),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "state" / "last.json").read_text())["status"] == "pass"
    assert not (tmp_path / "tmp" / "preflight" / "report.json").exists()
