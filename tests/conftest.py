"""Shared fixtures: a clean environment for every test, and helpers to run real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import structlog

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "service"


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """Commands configure structlog for their process; undo it after each in-process test."""
    yield
    structlog.reset_defaults()


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's or CI's PREFLIGHT_* and DATABASE_URL out of every test."""
    for name in list(os.environ):
        if name.upper().startswith("PREFLIGHT_") or name in {"DATABASE_URL", "PGHOST"}:
            monkeypatch.delenv(name, raising=False)


@dataclass(frozen=True)
class Completed:
    """A finished preflight process: exit code, stdout, and stderr split into lines."""

    returncode: int
    stdout: str
    stderr: str

    def events(self) -> list[dict[str, object]]:
        """The JSON event lines on stderr (fails the test on a line that is not JSON)."""
        return [json.loads(line) for line in self.stderr.splitlines() if line.strip()]


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child preflight: the test's, without PREFLIGHT_*, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PREFLIGHT_")}
    env.pop("DATABASE_URL", None)
    env.update(extra)
    return env


def run_preflight(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> Completed:
    """Run `python -m preflight ARGS` as a real process (stdout and stderr are not TTYs)."""
    done = subprocess.run(
        [sys.executable, "-m", "preflight", *args],
        cwd=cwd or REPO,
        env=env if env is not None else child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Completed(done.returncode, done.stdout, done.stderr)


# --- reliability figures ----------------------------------------------------------------------

_FIGURES: list[dict[str, object]] = []


@dataclass(frozen=True)
class FigureRecorder:
    """Records a measured figure of the reliability suite (printed at the end of the run)."""

    test: str

    def __call__(self, name: str, value: object, unit: str = "") -> None:
        """Keep `name = value unit`; the terminal summary lists them, RELIABILITY_FIGURES saves."""
        _FIGURES.append({"test": self.test, "figure": name, "value": value, "unit": unit})


@pytest.fixture
def record_figure(request: pytest.FixtureRequest) -> FigureRecorder:
    """A recorder for this test's measured figures (the README's Reliability table)."""
    return FigureRecorder(request.node.name)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print every recorded figure; write them as JSON to $RELIABILITY_FIGURES when set."""
    if not _FIGURES:
        return
    terminalreporter.section("reliability figures")
    for figure in _FIGURES:
        terminalreporter.write_line(
            f"{figure['figure']}: {figure['value']} {figure['unit']}".rstrip()
            + f"  [{figure['test']}]"
        )
    target = os.environ.get("RELIABILITY_FIGURES")
    if target:
        Path(target).write_text(json.dumps(_FIGURES, indent=2) + "\n", encoding="utf-8")
