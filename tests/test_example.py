"""The bundled example is a real backend: it imports, its middleware in the declared order."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

from conftest import EXAMPLE, child_env

PROBE = """
import json
from service.main import app
print(json.dumps({
    "middleware": [m.cls.__name__ for m in app.user_middleware],
    "routes": sorted(p for p in app.openapi()["paths"] if p in {"/health", "/items"}),
}))
"""


def test_example_app_imports_with_the_declared_middleware_order() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=child_env(PYTHONPATH=str(EXAMPLE / "src")),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    built = json.loads(done.stdout)
    declared = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["tool"]["preflight"]
    assert built["middleware"] == declared["middleware"]["order"]  # outermost first, both
    assert set(declared["middleware"]["required"]) <= set(built["middleware"])
    assert built["routes"] == ["/health", "/items"]
