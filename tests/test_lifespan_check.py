"""The lifespan check through the real command line: real Starlette/FastAPI apps' startup."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import EXAMPLE, child_env, run_preflight
from test_app_check import check, check_result, findings, wait_dead, write_app

STARLETTE_LIFESPAN = """
import contextlib
from starlette.applications import Starlette

@contextlib.asynccontextmanager
async def lifespan(app):
{startup}
    yield
{shutdown}

app = Starlette(lifespan=lifespan)
"""


def lifespan_app(root: Path, startup: str, shutdown: str = "pass", **files: str) -> None:
    def indent(code: str) -> str:
        return "\n".join("    " + line for line in code.splitlines())

    source = STARLETTE_LIFESPAN.format(startup=indent(startup), shutdown=indent(shutdown))
    write_app(root, {"pkg/main.py": source, **files})


def test_the_example_starts_and_stops() -> None:
    done = run_preflight(
        "check", "--only", "lifespan", "--config", str(EXAMPLE / "pyproject.toml"),
        "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = check_result(json.loads(done.stdout), "lifespan")
    assert result["status"] == "pass"
    assert result["summary"] == "startup and shutdown completed"
    assert {"startup_ms", "shutdown_ms"} <= result["metrics"].keys()


def test_lifespan_is_opt_in() -> None:
    done = run_preflight("check", "--config", str(EXAMPLE / "pyproject.toml"), "--format", "json")
    result = check_result(json.loads(done.stdout), "lifespan")
    assert result["status"] == "skip"
    assert "--only lifespan" in result["summary"]


def test_a_startup_raising_typeerror_is_pf410_with_its_frame(tmp_path: Path) -> None:
    lifespan_app(
        tmp_path,
        "from pkg.db import connect\nawait connect(pool_size='10')",
        **{"pkg/db.py": "async def connect():\n    pass\n"},
    )
    done, report = check(tmp_path, "pkg.main:app", only="lifespan")
    assert done.returncode == 4, done.stderr
    (finding,) = findings(report, "PF410")
    assert finding["message"].startswith("lifespan.startup.failed: TypeError: connect() got an")
    assert (finding["file"], finding["line"]) == ("pkg/main.py", 7)  # the await


def test_sys_exit_in_a_lifespan_handler_is_pf410_with_the_code(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        {
            "pkg/main.py": """
            import contextlib, sys
            from fastapi import FastAPI

            @contextlib.asynccontextmanager
            async def lifespan(app):
                print("database unreachable, giving up")
                sys.exit(3)
                yield

            app = FastAPI(lifespan=lifespan)
            """
        },
    )
    done, report = check(tmp_path, "pkg.main:app", only="lifespan")
    assert done.returncode == 4, done.stderr
    (finding,) = findings(report, "PF410")
    assert finding["message"] == "lifespan.startup.failed: sys.exit(3) was called"
    assert (finding["file"], finding["line"]) == ("pkg/main.py", 7)
    assert "database unreachable, giving up" in finding["output"]


def test_cannot_import_name_in_a_startup_function_is_pf410(tmp_path: Path) -> None:
    lifespan_app(
        tmp_path,
        "from pkg.jobs import start_schedulers\nstart_schedulers()",
        **{"pkg/jobs.py": "def start_scheduler():\n    pass\n"},
    )
    done, report = check(tmp_path, "pkg.main:app", only="app,lifespan")
    assert done.returncode == 4, done.stderr  # the import itself was clean: app passes
    assert check_result(report)["status"] == "pass"
    (finding,) = findings(report, "PF410")
    assert (
        "ImportError: cannot import name 'start_schedulers' from 'pkg.jobs'" in finding["message"]
    )


def test_a_failing_shutdown_is_pf411(tmp_path: Path) -> None:
    lifespan_app(tmp_path, "pass", "raise RuntimeError('pool already closed')")
    done, report = check(tmp_path, "pkg.main:app", only="lifespan")
    assert done.returncode == 4
    (finding,) = findings(report, "PF411")
    assert finding["message"] == "lifespan.shutdown.failed: RuntimeError: pool already closed"


@pytest.mark.realtime
def test_a_hanging_startup_is_pf412_within_the_budget(tmp_path: Path) -> None:
    pid = tmp_path / "pid"
    lifespan_app(
        tmp_path,
        f"import asyncio, os\nopen({str(pid)!r}, 'w').write(str(os.getpid()))\n"
        "await asyncio.sleep(60)",
    )
    started = time.monotonic()
    done, report = check(tmp_path, "pkg.main:app", only="app,lifespan", budget="2s")
    elapsed = time.monotonic() - started
    assert done.returncode == 4, done.stderr
    assert elapsed < 2 + 1.5, f"took {elapsed:.2f}s"
    (finding,) = findings(report, "PF412")
    assert finding["check"] == "lifespan"
    assert check_result(report)["status"] == "pass"  # the app itself loaded
    assert wait_dead(int(pid.read_text())) == []


def test_an_app_without_lifespan_support_is_pf413_info(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        {
            "pkg/main.py": """
            async def app(scope, receive, send):
                assert scope["type"] == "http"
            """
        },
    )
    done, report = check(tmp_path, "pkg.main:app", only="lifespan")
    assert done.returncode == 0, done.stderr
    (finding,) = findings(report, "PF413")
    assert finding["severity"] == "info"
    assert "AssertionError" in finding["message"]


def test_an_app_that_does_not_load_fails_lifespan_alone_or_defers_to_app(tmp_path: Path) -> None:
    write_app(tmp_path, {"pkg/main.py": "raise ValueError('broken')\n"})
    done, report = check(tmp_path, "pkg.main:app", only="lifespan")
    assert done.returncode == 4
    (finding,) = findings(report, "PF410")
    assert "the app did not load" in finding["message"]
    done, report = check(tmp_path, "pkg.main:app", only="app,lifespan")
    assert done.returncode == 4
    assert check_result(report, "lifespan")["status"] == "skip"
    assert [f["code"] for f in report["findings"]] == ["PF401"]


def test_a_django_asgi_app_has_no_lifespan_and_that_is_no_failure() -> None:
    # Django's ASGIHandler raises ValueError on every lifespan scope by design; uvicorn's
    # --lifespan auto goes on without it. That is PF413 (info), not a failed startup.
    apps = Path(__file__).parent / "apps_mw"
    done = run_preflight(
        "check", "--only", "lifespan", "--app", "djsite.asgi:application",
        "--root", str(apps), "--format", "json",
        env=child_env(DJANGO_SETTINGS_MODULE="djsite.settings_good"),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout
    report = json.loads(done.stdout)
    (finding,) = findings(report, "PF413")
    assert "ValueError" in finding["message"]
    assert check_result(report, "lifespan")["status"] == "pass"
