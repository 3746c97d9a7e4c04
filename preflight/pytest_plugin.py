"""pytest plugin: `pytest --preflight` runs preflight's static checks as test items.

One item per check (`imports`, `distributions`; with `--preflight-dynamic` also `app`,
`settings`, `middleware`), run once through preflight's own runner with the project's
configuration, found as the CLI finds it (`--preflight-config`, `PREFLIGHT_CONFIG`, else the
rootdir's `pyproject.toml` `[tool.preflight]` or `preflight.toml`). A failing item shows the
console rendering of its findings. pytest imports this module in every run where preflight is
installed, so it imports nothing of preflight until `--preflight` is given. Opt out with
`-p no:preflight`.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from preflight.config import Config
    from preflight.report import Report

STATIC_CHECKS = ("imports", "distributions")
DYNAMIC_CHECKS = ("app", "settings", "middleware")
_REPORT_KEY = pytest.StashKey["Report | str"]()
#: How long to wait for a killed app-loading child to be reaped after the run.
SETTLE_S = 2.0


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--preflight`, `--preflight-dynamic`, `--preflight-config`."""
    group = parser.getgroup("preflight", "preflight: the app's start-up checks as tests")
    group.addoption(
        "--preflight",
        action="store_true",
        default=False,
        help="Run preflight's static checks (imports, distributions) as test items.",
    )
    group.addoption(
        "--preflight-dynamic",
        action="store_true",
        default=False,
        help="Also the app, settings and middleware checks (imports the app in a child).",
    )
    group.addoption(
        "--preflight-config",
        metavar="FILE",
        default=None,
        help="preflight's config file (default: as the CLI finds it, from the rootdir).",
    )


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add one item per selected check (nothing without `--preflight`)."""
    if not (config.getoption("preflight") or config.getoption("preflight_dynamic")):
        return
    checks = STATIC_CHECKS + (DYNAMIC_CHECKS if config.getoption("preflight_dynamic") else ())
    items.extend(
        PreflightItem.from_parent(session, name=check, nodeid=f"preflight::{check}", check=check)
        for check in checks
    )


class PreflightFailure(Exception):  # noqa: N818 - pytest shows the class name: this reads best
    """A check failed; the message is the console rendering of its findings."""


class PreflightItem(pytest.Item):
    """One preflight check as a test."""

    def __init__(self, *, check: str, **kwargs: Any) -> None:  # noqa: ANN401 - pytest's node arguments
        """`check`: the check's name."""
        super().__init__(**kwargs)
        self.check = check
        self.add_marker(pytest.mark.preflight)

    def runtest(self) -> None:
        """Run the checks (once per session) and fail, skip or pass by this check's result."""
        from preflight.codes import Severity  # noqa: PLC0415
        from preflight.render.console import render_console  # noqa: PLC0415
        from preflight.report import Report, Status  # noqa: PLC0415

        report = _session_report(self.session)
        if isinstance(report, str):
            raise PreflightFailure(report)
        result = next(r for r in report.checks if r.name == self.check)
        if result.status is Status.SKIP:
            pytest.skip(f"preflight {self.check}: {result.summary}")
        strict = report.strict
        failing = result.status is Status.TIMEOUT or any(
            f.fails(strict=strict) for f in result.findings
        )
        if failing:
            alone = Report((result,), report.app, report.budget_ms, result.duration_ms, strict)
            raise PreflightFailure(f"{result.summary}\n\n{render_console(alone)}")
        if any(f.severity is Severity.WARNING for f in result.findings):
            self.user_properties.append(("preflight_warnings", len(result.findings)))

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,  # noqa: ANN401 - pytest's own type is private
    ) -> str | Any:  # noqa: ANN401
        """The findings as the console prints them, not a traceback into preflight."""
        if isinstance(excinfo.value, PreflightFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where pytest says the item is: the config file when there is one."""
        return self.path, None, f"preflight {self.check}"


def pytest_configure(config: pytest.Config) -> None:
    """Declare the `preflight` marker (so `--strict-markers` suites accept it)."""
    config.addinivalue_line("markers", "preflight: a preflight check run as a test item")


def _session_report(session: pytest.Session) -> Report | str:
    """The one run of the selected checks, or the one-line configuration error."""
    stash = session.stash
    if _REPORT_KEY not in stash:
        stash[_REPORT_KEY] = _run(session.config)
    return stash[_REPORT_KEY]


def _run(pytest_config: pytest.Config) -> Report | str:
    from preflight.checks import REGISTRY  # noqa: PLC0415 - only with --preflight
    from preflight.config import ConfigError, load_config  # noqa: PLC0415
    from preflight.runner import execute  # noqa: PLC0415

    checks = STATIC_CHECKS + (
        DYNAMIC_CHECKS if pytest_config.getoption("preflight_dynamic") else ()
    )
    cli: dict[str, Any] = {"only": list(checks)}
    given = pytest_config.getoption("preflight_config")
    if given:
        cli["config"] = str(Path(given).absolute())
    try:
        config: Config = load_config(cli, os.environ, Path(pytest_config.rootpath))
    except ConfigError as error:
        return f"preflight configuration error: {error}"
    unraisable = sys.unraisablehook
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            report = execute(config, REGISTRY, environ=os.environ)
            sys.unraisablehook = lambda _: None
            _settle()
    finally:
        sys.unraisablehook = unraisable
    return report


def _settle() -> None:
    """Let the app-loading children be reaped and their pipes collected, here and quietly.

    The runner does not wait for a child it has already heard from or killed (the command
    line exits right after). pytest's process lives on: the child's `Popen` and pipes would
    be collected later, in another test, after the run's event loop closed, and their
    ResourceWarnings and "Event loop is closed" errors fail a suite that runs with
    `filterwarnings = error`. asyncio's watcher threads reap the (killed) children.
    """
    for thread in threading.enumerate():
        if thread.name.startswith("asyncio-waitpid-"):
            thread.join(timeout=SETTLE_S)
    gc.collect()
