"""Scale: a generated tree of 20,000 first-party modules, all reachable, walks to completion.

The walk runs as a real `preflight check --only imports` process, cold (no parse cache) then
warm; its wall time and peak RSS (`ru_maxrss` from `wait4`, taken by a tiny launcher so the
figure is not floored at pytest's own size) are recorded for the README.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import child_env

pytestmark = [pytest.mark.reliability, pytest.mark.realtime]

PACKAGES = 200
MODULES_PER_PACKAGE = 99  # + each package's __init__: 200 * 100 = 20,000 modules, + the entry

#: Fork-exec the command, wait for it, print its exit code, wall seconds and peak RSS (KiB).
LAUNCHER = """
import json, os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(json.dumps([os.waitstatus_to_exitcode(status), time.perf_counter() - started,
                  usage.ru_maxrss]))
"""


def _generate(root) -> int:
    package_names = [f"pkg{p:03d}" for p in range(PACKAGES)]
    scale = root / "scale"
    scale.mkdir()
    (scale / "__init__.py").write_text("", encoding="utf-8")
    (scale / "main.py").write_text(
        "".join(f"import scale.{name}\n" for name in package_names) + "app = object()\n",
        encoding="utf-8",
    )
    count = 0
    for name in package_names:
        package = scale / name
        package.mkdir()
        modules = [f"mod{m:02d}" for m in range(MODULES_PER_PACKAGE)]
        (package / "__init__.py").write_text(
            f"from . import {', '.join(modules)}\n", encoding="utf-8"
        )
        count += 1
        for index, module in enumerate(modules):
            previous = f"from .{modules[index - 1]} import Thing{index - 1}\n" if index else ""
            (package / f"{module}.py").write_text(
                f'"""Module {module} of {name}."""\nimport os\n{previous}\n\n'
                f"class Thing{index}:\n    def run(self):\n        return os.sep\n",
                encoding="utf-8",
            )
            count += 1
    return count


def _walk(root) -> tuple[int, float, int, dict[str, object]]:
    report = root / "report.json"
    command = [sys.executable, "-m", "preflight", "check", "--only", "imports"]
    command += ["--app", "scale.main:app", "--root", str(root), "--budget", "600s"]
    command += ["--format", "json", "--report", str(report)]
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    code, seconds, peak_kib = json.loads(done.stdout)
    metrics = json.loads(report.read_text(encoding="utf-8"))["checks"][0]["metrics"]
    return code, seconds, peak_kib, metrics


def test_twenty_thousand_modules_walk_to_completion(tmp_path, record_figure):
    modules = _generate(tmp_path)
    assert modules == PACKAGES * (MODULES_PER_PACKAGE + 1)

    cold = _walk(tmp_path)
    warm = _walk(tmp_path)

    for label, (code, seconds, peak_kib, metrics) in (("cold", cold), ("warm", warm)):
        assert code == 0
        # Every generated module, its package and the entry's own package and module.
        assert metrics["modules"] == modules + 2
        record_figure(f"scale: 20,000 modules, {label} walk", round(seconds, 1), "s")
        record_figure(f"scale: 20,000 modules, {label} peak RSS", round(peak_kib / 1024), "MiB")
    assert cold[3]["files_parsed"] == modules + 2
    assert warm[3]["files_cached"] == modules + 2
