"""preflight: stop a broken Python backend from booting.

The public API. Light names are imported here; the runner and the configuration (which pull
in asyncio and pydantic) load on first use, so `import preflight.cli` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from preflight._version import __version__
from preflight.codes import ExitCode, Severity
from preflight.report import CheckResult, Finding, Report, Status

if TYPE_CHECKING:
    from preflight.config import Config, ConfigError, load_config
    from preflight.runner import execute, run_checks

_LAZY = {
    "Config": "preflight.config",
    "ConfigError": "preflight.config",
    "load_config": "preflight.config",
    "execute": "preflight.runner",
    "run_checks": "preflight.runner",
}


def __getattr__(name: str) -> Any:  # noqa: ANN401 - module attributes are of any type
    """Import the heavy parts of the API on first use."""
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'preflight' has no attribute {name!r}"
        raise AttributeError(msg)
    import importlib  # noqa: PLC0415

    return getattr(importlib.import_module(module), name)


__all__ = [
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
