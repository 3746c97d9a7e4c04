"""The pytest plugin through pytester: real pytest runs in subprocesses, on small projects."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

CONFIG = """
[tool.preflight]
app = "app.main"
roots = ["src"]

[tool.preflight.imports]
cache = false

[tool.preflight.distributions]
requirements = ["requirements.txt"]
"""


def write_project(pytester: pytest.Pytester, *, imports: str, requirements: str) -> None:
    pytester.makepyprojecttoml(CONFIG)
    (pytester.path / "src" / "app").mkdir(parents=True)
    (pytester.path / "src" / "app" / "__init__.py").write_text("")
    (pytester.path / "src" / "app" / "main.py").write_text(imports)
    (pytester.path / "requirements.txt").write_text(requirements)
    pytester.makepyfile(test_unit="def test_unit():\n    assert True\n")


def test_items_pass_for_a_healthy_project(pytester: pytest.Pytester) -> None:
    write_project(pytester, imports="import json\nimport click\n", requirements="click>=8\n")
    result = pytester.runpytest_subprocess("--preflight", "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["*preflight::imports PASSED*", "*preflight::distributions PASSED*"]
    )


def test_failures_show_the_rendered_findings(pytester: pytest.Pytester) -> None:
    write_project(
        pytester,
        imports="import json\nimport nosuchmod_preflight_plugin\n",
        requirements="click>=8\nnosuchdist-preflight-plugin>=1\n",
    )
    result = pytester.runpytest_subprocess("--preflight", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*PF301 error: No module named 'nosuchmod_preflight_plugin'",
            "*at app/main.py:2",
            "*PF901 error: nosuchdist-preflight-plugin is not installed (declared in*:2)",
            "*hint: pip install 'nosuchdist-preflight-plugin>=1'",
            "FAILED preflight::imports - 1 broken import in 2 modules",
            "FAILED preflight::distributions - 1 problem in 2 declared (requirements.txt)",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_nothing_happens_without_the_flag(pytester: pytest.Pytester) -> None:
    write_project(pytester, imports="import nosuchmod_preflight_plugin\n", requirements="x\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["collected 1 item"])
    assert "preflight::" not in result.stdout.str()


def test_opt_out_with_no_preflight(pytester: pytest.Pytester) -> None:
    write_project(pytester, imports="import json\n", requirements="click\n")
    result = pytester.runpytest_subprocess("-p", "no:preflight", "--preflight")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --preflight*"])


def test_config_option_and_skips(pytester: pytest.Pytester) -> None:
    (pytester.path / "elsewhere.toml").write_text('budget = "5s"\n')
    pytester.makepyfile(test_unit="def test_unit():\n    assert True\n")
    result = pytester.runpytest_subprocess(
        "--preflight", "--preflight-config", "elsewhere.toml", "-rs", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["*preflight imports: no app configured*"])
    bad = pytester.runpytest_subprocess("--preflight", "--preflight-config", "nothere.toml")
    bad.assert_outcomes(passed=1, failed=2)
    bad.stdout.fnmatch_lines(["*preflight configuration error: --config*does not exist*"])


def test_importing_the_plugin_stays_cheap() -> None:
    code = (
        "import sys, preflight.pytest_plugin\n"
        "heavy = {'pydantic', 'structlog', 'asyncio', 'asyncpg', 'httpx', 'packaging'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_dynamic_checks_leave_nothing_behind_in_a_warnings_as_errors_suite(
    pytester: pytest.Pytester,
) -> None:
    # The app-loading child's pipes used to be garbage-collected after the run's loop closed,
    # in the user's own session: ResourceWarnings and "Event loop is closed" then failed an
    # item, or crashed pytest at the session's end, in a suite with `filterwarnings = error`.
    pytester.makepyprojecttoml(
        CONFIG.replace('app = "app.main"', 'app = "app.main:app"')
        + '\n[tool.preflight.settings]\nclass = "app.config:Settings"\n'
        + '\n[tool.pytest.ini_options]\nfilterwarnings = ["error"]\n'
        + 'asyncio_default_fixture_loop_scope = "function"\n'
    )
    (pytester.path / "src" / "app").mkdir(parents=True)
    (pytester.path / "src" / "app" / "__init__.py").write_text("")
    (pytester.path / "src" / "app" / "main.py").write_text(
        "from starlette.applications import Starlette\n"
        "from starlette.middleware import Middleware\n"
        "from starlette.middleware.gzip import GZipMiddleware\n"
        "app = Starlette(middleware=[Middleware(GZipMiddleware)])\n"
    )
    (pytester.path / "src" / "app" / "config.py").write_text(
        "from pydantic_settings import BaseSettings\n"
        "class Settings(BaseSettings):\n"
        "    debug: bool = False\n"
    )
    (pytester.path / "requirements.txt").write_text("starlette\n")
    pytester.makepyfile(test_unit="def test_unit():\n    assert True\n")
    result = pytester.runpytest_subprocess("--preflight-dynamic", "-p", "no:cacheprovider")
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=6)
    assert result.ret == pytest.ExitCode.OK
