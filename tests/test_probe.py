"""`preflight probe` as a real process: the report `run` left, then the live checks.

Reports are written by the real `preflight run`; the database is the local PostgreSQL, or a
closed port, or a listener this file opens that accepts and never answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING

import pytest
from conftest import Completed, child_env, run_preflight
from test_database import PG, needs_postgres

from preflight.probe import LastReport, read_last_report
from preflight.render import render_json
from preflight.report import CheckResult, Report

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

#: Room above the budget a probe may take on a loaded machine (interpreter start included).
SLACK_S = 1.5


class SilentListener:
    """Accepts TCP connections on 127.0.0.1, counts them, and never says a word."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self.accepted = 0
        self.connected = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self._server.accept()
                self.accepted += 1
                self.connected.set()
                self._held.append(conn)

    def close(self) -> None:
        with contextlib.suppress(OSError):  # wakes the accept thread; close alone does not
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentListener]:
    listener = SilentListener()
    yield listener
    listener.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def run_then(tmp_path: Path, dsn: str) -> Path:
    """`preflight run --only database -- true` with `dsn`: the report it leaves behind."""
    report = tmp_path / "report.json"
    done = run_preflight(
        "run", "--only", "database", "--report", str(report), "--", "true",
        cwd=tmp_path, env=child_env(DATABASE_URL=dsn),
    )  # fmt: skip
    assert report.is_file(), done.stderr
    return report


def probe(tmp_path: Path, report: Path, *args: str, **env: str) -> tuple[Completed, float]:
    started = time.monotonic()
    done = run_preflight(
        "probe", "--report", str(report), *args, cwd=tmp_path, env=child_env(**env)
    )
    return done, time.monotonic() - started


# --- the verdicts ----------------------------------------------------------------------------


@needs_postgres
def test_a_passing_run_and_a_live_database_exit_0(tmp_path: Path) -> None:
    report = run_then(tmp_path, PG)
    done, _ = probe(tmp_path, report, DATABASE_URL=PG)
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)  # not a TTY: JSON
    assert outcome["schema"] == "preflight.probe/1"
    assert outcome["status"] == "pass"
    assert outcome["reason"] == "the last run passed; live checks pass (database)"
    assert outcome["last_run"]["path"] == str(report)
    assert outcome["last_run"]["status"] == "pass"
    live = {check["name"]: check["status"] for check in outcome["live"]["checks"]}
    assert live["database"] == "pass"
    assert live["imports"] == "skip"  # only the live checks run
    events = done.events()
    assert {e["check"] for e in events if e["message"] == "check.finished"} == {
        "database",
        "services",
    }
    assert (events[-1]["message"], events[-1]["severity"]) == ("probe.finished", "INFO")


def test_a_failed_run_exits_with_its_code_without_touching_the_network(
    tmp_path: Path, silent: SilentListener
) -> None:
    report = run_then(tmp_path, "mysql://app@127.0.0.1/app")  # PF705: exit 7
    assert json.loads(report.read_text())["exit_code"] == 7
    dsn = f"postgresql://postgres@127.0.0.1:{silent.port}/test"
    done, _ = probe(tmp_path, report, DATABASE_URL=dsn)
    assert done.returncode == 7
    assert json.loads(done.stdout)["reason"] == "the last run failed: database failed (exit 7)"
    assert json.loads(done.stdout)["live"] is None
    assert silent.accepted == 0
    last = done.events()[-1]
    assert (last["severity"], last["message"]) == (
        "ERROR",
        "probe.finished: last run: database failed (exit 7)",
    )


@needs_postgres
@pytest.mark.realtime
def test_a_database_gone_exits_7_within_the_budget(tmp_path: Path) -> None:
    report = run_then(tmp_path, PG)
    gone = f"postgresql://postgres@127.0.0.1:{closed_port()}/test"
    done, elapsed = probe(tmp_path, report, "--budget", "1s", DATABASE_URL=gone)
    assert done.returncode == 7
    assert elapsed < 1 + SLACK_S
    outcome = json.loads(done.stdout)
    assert outcome["reason"].startswith("live checks: database failed (exit 7): connection refused")
    assert [f["code"] for f in outcome["live"]["findings"]] == ["PF701"]
    assert done.events()[-1]["message"] == "probe.finished: database failed (exit 7)"


@needs_postgres
@pytest.mark.realtime
def test_a_silent_database_is_cut_at_the_probe_budget_not_the_run_budget(
    tmp_path: Path, silent: SilentListener
) -> None:
    report = run_then(tmp_path, PG)
    (tmp_path / "preflight.toml").write_text(
        'budget = "60s"\n[database]\nconnect_timeout = "30s"\n'
    )
    dsn = f"postgresql://postgres@127.0.0.1:{silent.port}/test"
    done, elapsed = probe(tmp_path, report, DATABASE_URL=dsn, PREFLIGHT_BUDGET="60s")
    assert done.returncode == 7
    assert silent.accepted >= 1
    assert elapsed < 2 + SLACK_S  # the probe's default 2 s, not the run's 60 s
    assert json.loads(done.stdout)["live"]["budget_ms"] == 2000


def test_the_probe_budget_comes_from_the_config_file(
    tmp_path: Path, silent: SilentListener
) -> None:
    report = tmp_path / "report.json"
    report.write_text(render_json(passing_report()))
    (tmp_path / "preflight.toml").write_text('[probe]\nbudget = "700ms"\n')
    dsn = f"postgresql://postgres@127.0.0.1:{silent.port}/test"
    done, _ = probe(tmp_path, report, DATABASE_URL=dsn)
    assert done.returncode == 7
    assert json.loads(done.stdout)["live"]["budget_ms"] == 700


def test_no_report_exits_2_with_one_line_saying_so(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here.json"
    done, _ = probe(tmp_path, missing)
    assert done.returncode == 2
    outcome = json.loads(done.stdout)
    assert outcome["reason"] == f"no report at {missing} yet"
    assert "preflight run" in outcome["last_run"]["hint"]
    last = done.events()[-1]
    assert (last["severity"], last["message"]) == (
        "ERROR",
        "probe.finished: no usable report (exit 2)",
    )
    assert "Traceback" not in done.stderr


def test_run_and_probe_agree_on_the_default_report_when_TMPDIR_is_unusable(  # noqa: N802
    tmp_path: Path,
) -> None:
    # `run` asked tempfile.gettempdir(), which hunts for a writable folder and raises when
    # there is none (a read-only root filesystem without an emptyDir at /tmp): a traceback,
    # and the server never started. The default is $TMPDIR's, written or not, in both.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    tmpdir = blocker / "tmp"  # under a file: nothing can be created there, even by root
    default = tmpdir / "preflight" / "report.json"
    env = child_env(TMPDIR=str(tmpdir))
    done = run_preflight(
        "run", "--only", "bind", "--", sys.executable, "-c", "print('server started')",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "server started\n"
    (warning,) = [e for e in done.events() if e["message"] == "report.not_written"]
    assert warning["path"] == str(default)
    probed = run_preflight("probe", cwd=tmp_path, env=env)
    assert probed.returncode == 2
    assert str(default) in json.loads(probed.stdout)["reason"]


def test_the_report_path_comes_from_the_environment(tmp_path: Path) -> None:
    report = tmp_path / "elsewhere.json"
    report.write_text(render_json(passing_report()))
    done = run_preflight(
        "probe", "--format", "console", cwd=tmp_path, env=child_env(PREFLIGHT_REPORT=str(report))
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        "preflight probe: PASS (exit 0): the last run passed; live checks pass (none configured)\n"
    )
    assert f"  report    {report}\n" in done.stdout


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x89PNG not json", "is not a JSON preflight report"),
        (b'{"schema": "sarif/2.1.0"}', "is not a preflight.report/1 (schema 'sarif/2.1.0')"),
        (b"[1, 2]", "is not a preflight.report/1 (no schema)"),
        (
            b'{"schema": "preflight.report/1", "status": "pass", "exit_code": 3}',
            "status and exit_code disagree",
        ),
    ],
)
def test_a_report_that_is_not_one_exits_2(tmp_path: Path, content: bytes, reason: str) -> None:
    report = tmp_path / "report.json"
    report.write_bytes(content)
    done, _ = probe(tmp_path, report, "--format", "console")
    assert done.returncode == 2
    assert reason in done.stdout.splitlines()[0]


def test_a_report_for_another_app_is_stale(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(render_json(passing_report(app="billing.main:app")))
    done, _ = probe(tmp_path, report, "--app", "service.main:app")
    assert done.returncode == 2
    assert json.loads(done.stdout)["reason"] == (
        "the report was written for app 'billing.main:app', not 'service.main:app'"
    )


@pytest.mark.parametrize("budget", ["fast", "0", "-1s"])
def test_a_bad_budget_is_one_line_exit_2(tmp_path: Path, budget: str) -> None:
    done = run_preflight("probe", "--budget", budget, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("Error: --budget: ")


# --- reading the report, in-process ------------------------------------------------------------


def passing_report(app: str | None = None) -> Report:
    checks = (CheckResult.skipped("imports", "off"),)
    return Report(checks=checks, app=app, budget_ms=15_000, duration_ms=5)


def test_a_report_written_before_the_container_started_is_stale(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(render_json(passing_report()))
    now = time.time()
    os.utime(path, (now - 600, now - 600))
    stale = read_last_report(path, app=None, container_started=now - 60)
    assert stale.problem is not None
    assert "before this container started" in stale.problem
    fresh = read_last_report(path, app=None, container_started=now - 3600)
    assert fresh.problem is None
    assert fresh.exit_code == 0


def test_a_password_in_the_report_file_is_masked_when_read(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    data = json.loads(render_json(passing_report()))
    data["checks"][0]["summary"] = "tried postgresql://app:hunter2@db/app"
    path.write_text(json.dumps(data))
    last = read_last_report(path, app=None)
    assert "hunter2" not in json.dumps(last.to_dict(full=True))


def test_a_folder_is_not_a_report(tmp_path: Path) -> None:
    last: LastReport = read_last_report(tmp_path, app=None)
    assert last.exit_code == 2
    assert last.problem is not None
    assert last.problem.startswith(f"cannot read the report {tmp_path}")
