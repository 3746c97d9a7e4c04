"""The app check through the real command line: real apps, a real child interpreter.

Each app is written into `tmp_path/src` from the strings below; preflight runs as a real
process (`run_preflight`), imports it in its child, and the report on stdout is read back.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE, Completed, child_env, run_preflight

STARLETTE_APP = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

async def home(request):
    return PlainTextResponse("ok")

def create_app():
    return Starlette(routes=[Route("/", home)])
"""


def write_app(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (path -> source) under `root/src`, packages made as needed."""
    src = root / "src"
    for name, source in files.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
        init = path.parent / "__init__.py"
        if path.parent != src and not init.exists():
            init.write_text("", encoding="utf-8")
    return src


def check(
    root: Path, app: str, *args: str, only: str = "app", budget: str = "15s", **env: str
) -> tuple[Completed, dict[str, Any]]:
    done = run_preflight(
        "check", "--only", only, "--app", app, "--root", str(root / "src"),
        "--budget", budget, "--format", "json",
        *args, cwd=root, env=child_env(**env),
    )  # fmt: skip
    return done, json.loads(done.stdout)


def findings(report: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["code"] == code]


def check_result(report: dict[str, Any], name: str = "app") -> dict[str, Any]:
    return next(c for c in report["checks"] if c["name"] == name)


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting to be reaped counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone (ENOENT), or going while read (ESRCH)
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_dead(*pids: int, within: float = 2.0) -> list[int]:
    """The pids still alive after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.02)
    return [pid for pid in pids if alive(pid)]


def test_the_example_loads_and_reports_its_import_profile() -> None:
    done = run_preflight(
        "check", "--only", "app", "--config", str(EXAMPLE / "pyproject.toml"), "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    result = check_result(report)
    assert result["status"] == "pass"
    assert result["metrics"]["kind"] == "asgi"
    assert result["metrics"]["framework"] == "fastapi"
    slowest = result["metrics"]["slowest_imports"]
    assert len(slowest) == 10
    cumulative = [item["cumulative_ms"] for item in slowest]
    assert cumulative == sorted(cumulative, reverse=True)
    assert "service.app_factory" in [item["module"] for item in slowest]
    # the entry module itself is timed (its cumulative time holds every import it makes)
    assert slowest[0]["module"] == "service.main"
    assert result["metrics"]["modules_imported"] > 100
    # preflight's own bootstrap is outside the profile
    assert not any(item["module"].startswith("preflight") for item in slowest)
    (profile,) = findings(report, "PF408")
    assert profile["severity"] == "info"
    assert profile["module"] == "service.main"


def test_an_app_factory_is_called(tmp_path: Path) -> None:
    write_app(tmp_path, {"pkg/main.py": STARLETTE_APP})
    done, report = check(tmp_path, "pkg.main:create_app()")
    assert done.returncode == 0, done.stderr
    metrics = check_result(report)["metrics"]
    assert metrics["framework"] == "starlette"
    assert metrics["type"] == "starlette.applications.Starlette"
    assert "factory_ms" in metrics


def test_plain_asgi_and_wsgi_callables_are_apps(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        {
            "pkg/main.py": """
            async def app(scope, receive, send):
                pass

            def wsgi(environ, start_response):
                return []
            """
        },
    )
    done, report = check(tmp_path, "pkg.main:app")
    assert done.returncode == 0, done.stderr
    assert check_result(report)["metrics"]["kind"] == "asgi"
    done, report = check(tmp_path, "pkg.main:wsgi")
    assert done.returncode == 0, done.stderr
    assert check_result(report)["metrics"]["kind"] == "wsgi"


def test_a_keyerror_at_import_is_pf401_with_frame_and_no_env_value(tmp_path: Path) -> None:
    token = "tok-8f3b2a9c1d"  # noqa: S105 - the value that must never show
    write_app(
        tmp_path,
        {
            "pkg/main.py": "from pkg.config import settings\napp = None\n",
            "pkg/config.py": """
            import os
            print("connecting with", os.environ["API_TOKEN"])
            settings = {"db": os.environ["DATABASE_HOST_X"]}
            """,
        },
    )
    done, report = check(tmp_path, "pkg.main:app", API_TOKEN=token)
    assert done.returncode == 4, done.stderr
    (finding,) = findings(report, "PF401")
    assert finding["message"] == "importing pkg.main raised KeyError: 'DATABASE_HOST_X'"
    assert (finding["file"], finding["line"]) == ("pkg/config.py", 3)
    assert finding["module"] == "pkg.config"
    assert finding["chain"] == ["pkg.main", "pkg.config"]
    assert "DATABASE_HOST_X" in finding["hint"]
    assert "connecting with ***" in finding["output"]
    assert token not in done.stdout
    assert token not in done.stderr


def test_a_missing_attribute_is_pf402_naming_the_app_it_found(tmp_path: Path) -> None:
    write_app(tmp_path, {"pkg/main.py": STARLETTE_APP + "\napplication = create_app()\n"})
    done, report = check(tmp_path, "pkg.main:app")
    assert done.returncode == 4
    (finding,) = findings(report, "PF402")
    assert finding["message"] == "module 'pkg.main' has no attribute 'app'"
    assert finding["hint"].startswith("did you mean pkg.main:application?")


def test_a_close_spelling_is_suggested(tmp_path: Path) -> None:
    write_app(tmp_path, {"pkg/main.py": "def create_app():\n    pass\n"})
    done, report = check(tmp_path, "pkg.main:create_ap()")
    assert done.returncode == 4
    (finding,) = findings(report, "PF402")
    assert "pkg.main:create_app" in finding["hint"]


def test_an_object_that_is_no_app_is_pf403(tmp_path: Path) -> None:
    write_app(tmp_path, {"pkg/main.py": STARLETTE_APP + "\nsettings = {'debug': True}\n"})
    done, report = check(tmp_path, "pkg.main:settings")
    assert done.returncode == 4
    (finding,) = findings(report, "PF403")
    assert "builtins.dict" in finding["message"]
    done, report = check(tmp_path, "pkg.main:create_app")  # the factory, not called
    (finding,) = findings(report, "PF403")
    assert "pkg.main:create_app()" in finding["hint"]


def test_a_failing_factory_is_pf406(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        {"pkg/main.py": "def create_app():\n    raise ValueError('no routes configured')\n"},
    )
    done, report = check(tmp_path, "pkg.main:create_app()")
    assert done.returncode == 4
    (finding,) = findings(report, "PF406")
    assert finding["message"] == "calling create_app() raised ValueError: no routes configured"
    assert (finding["file"], finding["line"]) == ("pkg/main.py", 2)


def test_a_factory_that_needs_arguments_says_so(tmp_path: Path) -> None:
    write_app(tmp_path, {"pkg/main.py": STARLETTE_APP.replace("create_app()", "create_app(cfg)")})
    done, report = check(tmp_path, "pkg.main:create_app()")
    assert done.returncode == 4
    (finding,) = findings(report, "PF406")
    assert "missing 1 required positional argument: 'cfg'" in finding["message"]
    assert finding["hint"].startswith("create_app needs 1 argument(s)")


def test_a_process_that_left_the_group_does_not_hide_the_failure(tmp_path: Path) -> None:
    # A sidecar started in a session of its own inherits the child's stdout and stderr and
    # outlives it: the import's exception is still reported, not a timeout at the budget.
    pid_file = tmp_path / "sidecar.pid"
    write_app(
        tmp_path,
        {
            "pkg/main.py": f"""
            import subprocess
            sidecar = subprocess.Popen(["sleep", "30"], start_new_session=True)
            open({str(pid_file)!r}, "w").write(str(sidecar.pid))
            raise RuntimeError("the config is broken")
            """
        },
    )
    try:
        done, report = check(tmp_path, "pkg.main:app", budget="5s")
    finally:
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert done.returncode == 4
    (finding,) = findings(report, "PF401")
    assert finding["message"] == "importing pkg.main raised RuntimeError: the config is broken"
    assert check_result(report)["status"] == "fail"


@pytest.mark.realtime
def test_a_hang_with_a_process_that_left_the_group_is_still_pf404(tmp_path: Path) -> None:
    pid_file = tmp_path / "sidecar.pid"
    write_app(
        tmp_path,
        {
            "pkg/main.py": f"""
            import subprocess, time
            sidecar = subprocess.Popen(["sleep", "30"], start_new_session=True)
            open({str(pid_file)!r}, "w").write(str(sidecar.pid))
            print("waiting for the broker", flush=True)
            time.sleep(60)
            """
        },
    )
    try:
        done, report = check(tmp_path, "pkg.main:app", budget="2s")
    finally:
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert done.returncode == 4
    (finding,) = findings(report, "PF404")
    assert "waiting for the broker" in finding["output"]
    assert check_result(report)["status"] == "fail"  # reported by the check, not cut off


def test_the_django_settings_module_is_named_not_masked(tmp_path: Path) -> None:
    # DJANGO_SETTINGS_MODULE names a module, never a secret: its frames and chain show it.
    write_app(
        tmp_path,
        {
            "pkg/main.py": "import pkg.settings\n",
            "pkg/settings.py": "import os\nSECRET_KEY = os.environ['DJANGO_SECRET_KEY']\n",
        },
    )
    done, report = check(tmp_path, "pkg.main:app", DJANGO_SETTINGS_MODULE="pkg.settings")
    assert done.returncode == 4
    (finding,) = findings(report, "PF401")
    assert finding["module"] == "pkg.settings"
    assert finding["chain"] == ["pkg.main", "pkg.settings"]


@pytest.mark.realtime
def test_a_hanging_import_is_pf404_within_the_budget_and_the_group_dies(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    write_app(
        tmp_path,
        {
            "pkg/main.py": f"""
            import os, signal, subprocess, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # only SIGKILL ends it
            worker = subprocess.Popen(["sleep", "60"])
            with open({str(pids)!r}, "w") as out:
                out.write(f"{{os.getpid()}} {{worker.pid}}")
            print("waiting for the database", flush=True)
            time.sleep(60)
            """
        },
    )
    started = time.monotonic()
    done, report = check(tmp_path, "pkg.main:app", budget="2s")
    elapsed = time.monotonic() - started
    assert done.returncode == 4, done.stderr
    assert elapsed < 2 + 1.5, f"took {elapsed:.2f}s"
    (finding,) = findings(report, "PF404")
    assert "importing the entry module" in finding["message"]
    assert "waiting for the database" in finding["output"]
    assert check_result(report)["status"] == "fail"  # reported by the check, not cut off
    assert wait_dead(*map(int, pids.read_text().split())) == []


@pytest.mark.realtime
def test_sigterm_to_preflight_mid_load_kills_the_child_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    write_app(
        tmp_path,
        {
            "pkg/main.py": f"""
            import os, subprocess, time
            worker = subprocess.Popen(["sleep", "60"])
            with open({str(pids)!r}, "w") as out:
                out.write(f"{{os.getpid()}} {{worker.pid}}")
            time.sleep(60)
            """
        },
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "preflight", "check", "--only", "app", "--app", "pkg.main:app",
         "--root", str(tmp_path / "src"), "--budget", "60s", "--format", "json"],
        cwd=tmp_path, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not (pids.exists() and pids.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pids.exists(), "the app never started importing"
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 143
    assert json.loads(out)["exit_code"] == 143
    assert wait_dead(*map(int, pids.read_text().split())) == []


def test_prints_to_stdout_never_reach_preflights_stdout(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        {
            "pkg/main.py": STARLETTE_APP
            + "\nprint('hello from the app')\nimport sys\nprint('warn', file=sys.stderr)\n"
            + "app = create_app()\n"
        },
    )
    done, report = check(tmp_path, "pkg.main:app")
    assert done.returncode == 0
    assert report["status"] == "pass"  # stdout parsed as one JSON document
    assert "hello from the app" not in done.stdout
    write_app(tmp_path, {"pkg/main.py": "print('hello from the app')\nraise ValueError('boom')\n"})
    done, report = check(tmp_path, "pkg.main:app")
    (finding,) = findings(report, "PF401")
    assert finding["output"] == "hello from the app"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("import sys\nsys.exit(3)\n", "sys.exit(3) was called", id="sys-exit"),
        pytest.param("import os\nos._exit(1)\n", "exited with code 1", id="os-exit"),
    ],
)
def test_exiting_at_import_is_pf405(tmp_path: Path, source: str, expected: str) -> None:
    write_app(tmp_path, {"pkg/main.py": source})
    done, report = check(tmp_path, "pkg.main:app")
    assert done.returncode == 4, done.stderr
    (finding,) = findings(report, "PF405")
    assert expected in finding["message"]


def test_a_child_killed_by_a_signal_is_pf407(tmp_path: Path) -> None:
    write_app(
        tmp_path, {"pkg/main.py": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"}
    )
    done, report = check(tmp_path, "pkg.main:app")
    assert done.returncode == 4
    (finding,) = findings(report, "PF407")
    assert "SIGKILL" in finding["message"]


def test_a_missing_module_through_a_factory_is_exit_3_with_the_chain(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        {
            "pkg/main.py": "from pkg.factory import create_app\n\napp = create_app()\n",
            "pkg/factory.py": """
            def create_app():
                from pkg.middleware import auth
                return auth
            """,
            "pkg/middleware/auth.py": "import os\nfrom auth_service import verify\n",
        },
    )
    done, report = check(tmp_path, "pkg.main:app")
    assert done.returncode == 3, done.stderr
    assert [f["code"] for f in report["findings"]] == ["PF310"]  # no profile of a failed import
    (finding,) = findings(report, "PF310")
    assert finding["check"] == "app"
    assert finding["message"] == "importing pkg.main failed: No module named 'auth_service'"
    assert finding["name"] == "auth_service"
    assert finding["chain"] == ["pkg.main", "pkg.factory", "pkg.middleware.auth"]
    assert (finding["file"], finding["line"]) == ("pkg/middleware/auth.py", 2)
    assert "'auth_service' installed" in finding["hint"]


def test_an_import_error_wrapped_in_a_runtime_error_is_still_exit_3(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        {
            "pkg/main.py": """
            try:
                from pkg.websocket import websocket_auth_middleware
            except ImportError as error:
                raise RuntimeError("websocket auth unavailable") from error
            """,
            "pkg/websocket.py": "class WebSocketAuthMiddleware:\n    pass\n",
        },
    )
    done, report = check(tmp_path, "pkg.main:app")
    assert done.returncode == 3, done.stderr
    (finding,) = findings(report, "PF310")
    assert finding["message"].startswith(
        "importing pkg.main raised RuntimeError: websocket auth unavailable, caused by ImportError:"
        " cannot import name 'websocket_auth_middleware' from 'pkg.websocket'"
    )
    assert (finding["module"], finding["name"]) == ("pkg.websocket", "websocket_auth_middleware")
    assert (finding["file"], finding["line"]) == ("pkg/main.py", 2)


def test_settings_failing_at_import_are_exit_5_naming_the_variables(tmp_path: Path) -> None:
    secret = "not-a-port-7f2e"  # noqa: S105 - the value that must never show
    write_app(
        tmp_path,
        {
            "pkg/main.py": "from pkg.config import settings\napp = None\n",
            "pkg/config.py": """
            from pydantic_settings import BaseSettings, SettingsConfigDict

            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_prefix="APP_")
                database_url: str
                port: int = 8080

            settings = Settings()
            """,
        },
    )
    done, report = check(tmp_path, "pkg.main:app", APP_PORT=secret)
    assert done.returncode == 5, done.stderr
    (missing,) = findings(report, "PF501")
    (invalid,) = findings(report, "PF502")
    assert missing["check"] == invalid["check"] == "app"
    assert (missing["name"], invalid["name"]) == ("database_url", "port")
    assert "set APP_DATABASE_URL" in missing["message"]
    assert "APP_PORT" in invalid["message"]
    assert (missing["file"], missing["line"]) == ("pkg/config.py", 8)
    assert missing["chain"] == ["pkg.main", "pkg.config"]
    assert not findings(report, "PF401")
    assert secret not in done.stdout
    assert secret not in done.stderr


def test_no_app_configured_is_a_skip(tmp_path: Path) -> None:
    done = run_preflight("check", "--only", "app", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0
    result = check_result(json.loads(done.stdout))
    assert result["status"] == "skip"
    assert "no app configured" in result["summary"]


def test_the_child_gets_the_environment_and_the_roots_first(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        {
            "pkg/main.py": """
            import os, sys
            assert os.environ["APP_MODE"] == "testing", "environment not passed"
            assert sys.path[0].endswith("src"), sys.path
            assert sys.argv == ["-c"], sys.argv
            async def app(scope, receive, send):
                pass
            """
        },
    )
    done, _ = check(tmp_path, "pkg.main:app", APP_MODE="testing")
    assert done.returncode == 0, done.stdout
    assert os.environ.get("APP_MODE") is None
