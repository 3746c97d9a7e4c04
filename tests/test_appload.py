"""The app-loading child through its session API, and its pure parts on their own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from test_app_check import STARLETTE_APP, alive, wait_dead, write_app

from preflight.appload.appobject import classify
from preflight.appload.importtime import ImportTimeFilter, parse_line
from preflight.appload.session import STAGES, LoadPlan, app_session
from preflight.checks.base import CheckContext
from preflight.clock import Deadline, SystemClock
from preflight.config import load_config
from preflight.secrets import redact_environ

if TYPE_CHECKING:
    from pathlib import Path


def context(root: Path, only: str, budget_ms: int = 15_000, **environ: str) -> CheckContext:
    cli = {"app": "pkg.main:app", "roots": [str(root / "src")], "only": only.split(",")}
    config = load_config(cli, {}, root)
    environ = {"PATH": os.environ["PATH"], **environ}
    return CheckContext(config, Deadline.start(SystemClock(), budget_ms), environ)


# --- the session ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_one_child_reports_every_planned_stage(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        {
            "pkg/main.py": STARLETTE_APP + '\nprint(\'{"stage": "fake"}\')\napp = create_app()\n',
            "pkg/config.py": """
            from pydantic_settings import BaseSettings
            class Settings(BaseSettings):
                debug: bool = False
            """,
        },
    )
    ctx = context(tmp_path, "app,middleware,settings")
    ctx.config = ctx.config.model_copy(
        update={
            "settings": ctx.config.settings.model_copy(update={"class_": "pkg.config:Settings"})
        }
    )
    session = app_session(ctx)
    assert app_session(ctx) is not session  # handles differ, the child is the same one
    stages = {name: await app_session(ctx).stage(name) for name in STAGES}
    assert stages["settings"].payload is not None
    assert stages["settings"].payload["ok"] is True
    assert stages["import"].payload is not None
    assert stages["import"].payload["ok"] is True
    assert stages["app"].payload is not None
    assert stages["app"].payload["framework"] == "starlette"
    assert stages["middleware"].payload is not None
    assert stages["middleware"].payload["framework"] == "starlette"
    assert (stages["lifespan"].payload, stages["lifespan"].missing) == (None, "not planned")
    end = await session.end()
    assert (end.returncode, end.killed_at_deadline, end.stage) == (0, False, None)
    assert end.output_tail == '{"stage": "fake"}'  # the app's print is output, not a report
    profile = await session.profile()
    assert profile is not None
    assert profile.modules > 10


@pytest.mark.asyncio
async def test_stages_after_a_failed_import_are_skipped(tmp_path: Path) -> None:
    write_app(tmp_path, {"pkg/main.py": "raise ValueError('broken')\n"})
    session = app_session(context(tmp_path, "app,middleware"))
    assert (await session.stage("app")).missing == "skipped"
    assert (await session.stage("middleware")).missing == "skipped"
    imported = await session.stage("import")
    assert imported.payload is not None
    assert imported.payload["error"]["type"] == "ValueError"
    with pytest.raises(ValueError, match="unknown stage"):
        await session.stage("routes")
    assert (await session.end()).returncode == 0


@pytest.mark.realtime
@pytest.mark.asyncio
async def test_the_deadline_kills_the_child_before_it_runs_out(tmp_path: Path) -> None:
    write_app(tmp_path, {"pkg/main.py": "import time\nprint('stuck')\ntime.sleep(60)\n"})
    ctx = context(tmp_path, "app", budget_ms=1500)
    session = app_session(ctx)
    stage = await session.stage("import")
    assert stage.missing == "deadline"
    end = await session.end()
    assert end.killed_at_deadline
    assert end.stage == "import"
    assert end.output_tail == "stuck"


@pytest.mark.realtime
@pytest.mark.asyncio
async def test_a_cancelled_waiter_kills_the_child_at_once(tmp_path: Path) -> None:
    pid = tmp_path / "pid"
    write_app(
        tmp_path,
        {"pkg/main.py": f"import os, time\nopen({str(pid)!r}, 'w').write(str(os.getpid()))\n"
         "time.sleep(60)\n"},
    )  # fmt: skip
    session = app_session(context(tmp_path, "app"))
    waiter = asyncio.ensure_future(session.stage("import"))
    for _ in range(500):
        if pid.exists() and pid.read_text():
            break
        await asyncio.sleep(0.01)
    child = int(pid.read_text())
    assert alive(child)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert wait_dead(child, within=1.0) == []  # SIGKILLed by the cancellation itself
    assert (await session.end()).returncode == -9


@pytest.mark.asyncio
async def test_environment_values_are_redacted_from_payloads_and_output(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        {"pkg/main.py": "import os\nprint(os.environ['SECRET_KEY'])\n"
         "raise RuntimeError('bad key ' + os.environ['SECRET_KEY'])\n"},
    )  # fmt: skip
    session = app_session(context(tmp_path, "app", SECRET_KEY="sk-live-123456"))  # noqa: S106 - a fake
    imported = await session.stage("import")
    assert imported.payload is not None
    assert imported.payload["error"]["message"] == "bad key ***"
    assert (await session.end()).output_tail == "***"


@pytest.mark.asyncio
async def test_a_secret_is_redacted_before_the_tail_is_cut(tmp_path: Path) -> None:
    # The 2 KiB cut lands 12 bytes into the token's line, and a 4 KiB line ends in the
    # middle of it: neither cut may leave a piece of the token unrecognised.
    secret = "SUPERSECRETVALUE123456"  # noqa: S105 - a fake
    write_app(
        tmp_path,
        {"pkg/main.py": "import os\ntoken = os.environ['APP_TOKEN']\n"
         "print('a' * 4090 + token)\nprint(token)\nprint('b' * 2035)\nraise SystemExit(1)\n"},
    )  # fmt: skip
    session = app_session(context(tmp_path, "app", APP_TOKEN=secret))
    tail = (await session.end()).output_tail
    assert tail.endswith("\n" + "b" * 2035)
    assert tail.startswith("…")
    for size in range(6, len(secret) + 1):  # no piece of it, from either end
        assert secret[:size] not in tail
        assert secret[-size:] not in tail
    assert "a" * 10 not in tail  # the long line was cut by the 2 KiB bound, after redaction
    tail_lines = tail.split("\n")
    assert tail_lines[-2] == "***"


@pytest.mark.asyncio
async def test_a_projects_own_preflight_module_does_not_replace_the_childs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A `preflight.py` in the working directory, a `preflight/` package on PYTHONPATH: the
    # child loads preflight's own driver, never runs the project's module in its place.
    ran = tmp_path / "ran"
    shadow = f"open({str(ran)!r}, 'a').write(__file__ + '\\n')\nraise SystemExit(9)\n"
    (tmp_path / "preflight.py").write_text(shadow, encoding="utf-8")
    (tmp_path / "lib" / "preflight").mkdir(parents=True)
    (tmp_path / "lib" / "preflight" / "__init__.py").write_text(shadow, encoding="utf-8")
    write_app(tmp_path, {"pkg/main.py": STARLETTE_APP + "\napp = create_app()\n"})
    monkeypatch.chdir(tmp_path)  # the child inherits it: sys.path[0] of `python -c`
    for environ in ({}, {"PYTHONPATH": str(tmp_path / "lib")}):
        session = app_session(context(tmp_path, "app", 15_000, **environ))
        loaded = await session.stage("app")
        assert loaded.payload is not None, (await session.end()).output_tail
        assert loaded.payload["ok"] is True
        assert (await session.end()).returncode == 0
    assert not ran.exists()


@pytest.mark.asyncio
async def test_the_profile_times_the_settings_module_itself(
    tmp_path: Path,
) -> None:
    # `-X importtime` logs a module imported by the import statement, not by
    # importlib.import_module: the module's own code would be left out of the profile.
    write_app(
        tmp_path,
        {
            "pkg/config.py": """
            from pydantic_settings import BaseSettings
            class Settings(BaseSettings):
                debug: bool = False
            """,
            "pkg/main.py": "import pkg.config\nasync def app(scope, receive, send):\n    pass\n",
        },
    )
    ctx = context(tmp_path, "app,settings")
    ctx.config = ctx.config.model_copy(
        update={
            "settings": ctx.config.settings.model_copy(update={"class_": "pkg.config:Settings"})
        }
    )
    session = app_session(ctx)
    profile = await session.profile()
    assert (await session.end()).returncode == 0
    assert profile is not None
    # the settings module is imported first and holds pydantic-settings: the slowest import
    # (without its own line, pydantic_settings would head the list)
    assert profile.slowest()[0]["module"] == "pkg.config"


@pytest.mark.asyncio
async def test_a_child_that_cannot_start_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    session = app_session(context(tmp_path, "app"))
    assert (await session.stage("import")).missing == "crashed"
    end = await session.end()
    assert end.start_error is not None
    assert "FileNotFoundError" in end.start_error


def test_the_plan_follows_the_selected_checks(tmp_path: Path) -> None:
    plan = LoadPlan.for_config(context(tmp_path, "settings").config)
    assert plan.app is None  # the settings check alone never imports the app
    assert plan.planned() == ()  # no settings class configured either
    plan = LoadPlan.for_config(context(tmp_path, "middleware,lifespan").config)
    assert plan.planned() == ("import", "app", "middleware", "lifespan")
    assert plan.roots == (str(tmp_path / "src"),)


# --- the pure parts ------------------------------------------------------------------------------


def test_import_time_lines_between_the_markers_make_the_profile() -> None:
    script = (
        "import os, sys\n"
        "from preflight.appload.importtime import START_MARKER, END_MARKER\n"
        "os.write(2, (START_MARKER + '\\n').encode())\n"
        "import json\n"  # fewer than 10 modules: all of them are in the profile's slowest
        "os.write(2, (END_MARKER + '\\n').encode())\n"
        "import csv\n"
    )
    stderr = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", script],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    split = ImportTimeFilter()
    output = [line for line in stderr.splitlines() if split.feed(line)]
    assert output == []
    modules = [item["module"] for item in split.profile.slowest()]
    assert "json" in modules
    assert "csv" not in modules
    assert "preflight.appload.importtime" not in modules
    assert split.profile.total_us >= max(
        int(item["cumulative_ms"]) * 1000 - 999 for item in split.profile.slowest()
    )


def test_parse_line_reads_depth_and_skips_the_header() -> None:
    assert parse_line("import time: self [us] | cumulative | imported package") is None
    assert parse_line("hello") is None
    line = parse_line("import time:       328 |        523 |     json.scanner")
    assert line is not None
    assert (line.module, line.self_us, line.cumulative_us, line.depth) == (
        "json.scanner",
        328,
        523,
        2,
    )


def test_redact_environ_masks_values_but_not_public_or_short_ones() -> None:
    environ = {
        "API_TOKEN": "abc-secret-9",
        "TOKEN_PREFIX": "abc-",
        "HOME": "/home/app",
        "DEBUG": "1",
        "LC_ALL": "C.UTF-8",
    }
    text = "token abc-secret-9 (prefix abc-) in /home/app, debug 1, C.UTF-8"
    assert redact_environ(text, environ) == "token *** (prefix ***) in /home/app, debug 1, C.UTF-8"
    assert redact_environ("nothing here", environ) == "nothing here"


def test_classify_knows_asgi_wsgi_and_neither() -> None:
    from starlette.applications import Starlette  # noqa: PLC0415

    async def asgi(scope: object, receive: object, send: object) -> None:
        pass

    def wsgi(environ: object, start_response: object) -> list[bytes]:
        return []

    class Middleware:
        async def __call__(self, scope: object, receive: object, send: object) -> None:
            pass

    assert classify(Starlette()) == ("asgi", "starlette")
    assert classify(asgi) == ("asgi", None)
    assert classify(Middleware()) == ("asgi", None)
    assert classify(wsgi) == ("wsgi", None)
    assert classify(Middleware) == (None, None)
    assert classify({"app": 1}) == (None, None)
    assert classify(lambda: None) == (None, None)


def test_short_values_are_redacted_only_as_whole_tokens() -> None:
    environ = {"API_TOKEN": "short", "PIN": "4711"}
    text = "string_too_short at pin 4711; token short; 47110 is another number"
    assert redact_environ(text, environ) == (
        "string_too_short at pin ***; token ***; 47110 is another number"
    )
