"""Installed packages that CPython imports cleanly: the imports check must find no error in them.

Real code is the best source of forms a table of cases misses (version checks, platform
checks, extension modules that register submodules, nested fallbacks). Each package is walked
with site-packages as the root, so the whole of it and its dependencies count as first-party.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from trees import describe, errors, tool_walk

SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
ENTRIES = [
    "fastapi",
    "starlette.applications",
    "pydantic",
    "pydantic_settings",
    "click",
    "structlog",
    "httpx",
    "asyncpg",
    "uvicorn.main",
    "hypothesis",
    "_pytest.main",
    "django.core.handlers.asgi",
]


@pytest.mark.parametrize("entry", ENTRIES)
def test_an_installed_package_that_imports_has_no_broken_import(tmp_path: Path, entry: str) -> None:
    imported = subprocess.run([sys.executable, "-c", f"import {entry}"], check=False)
    assert imported.returncode == 0  # CPython's verdict
    result, _, _ = tool_walk(tmp_path, entry, [SITE_PACKAGES])
    assert errors(result) == [], describe(result)
    assert len(result.modules) > 1
