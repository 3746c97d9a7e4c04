"""The public surface of `preflight` is deliberate: locked here, like httpx's exported members."""

from __future__ import annotations

import subprocess
import sys

import pytest

import preflight

PUBLIC = [
    "CheckResult",
    "Config",
    "ConfigError",
    "ExitCode",
    "Finding",
    "Report",
    "Severity",
    "Status",
    "__version__",
    "execute",
    "load_config",
    "run_checks",
]


def test_all_is_locked_and_sorted() -> None:
    assert preflight.__all__ == PUBLIC


def test_every_exported_name_resolves() -> None:
    for name in PUBLIC:
        assert getattr(preflight, name) is not None


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="nothing_here"):
        _ = preflight.nothing_here  # type: ignore[attr-defined]


def test_importing_preflight_defers_the_heavy_parts() -> None:
    probe = "import sys, preflight; print('pydantic' in sys.modules, 'asyncio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
