"""What the app-loading child costs: `check --only app` on the example vs a bare app import.

    python benchmarks/appload.py [--runs 10]

Runs each command `--runs` times in round-robin order (so machine noise hits both alike) and
prints the median, min and max wall time, and each median's ratio to the bare import. The
difference is preflight's own start plus the child's (a second interpreter, `-X importtime`,
the pipe): the app's import itself is in both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "service"

COMMANDS = {
    'python -c "import service.main"': [sys.executable, "-c", "import service.main"],
    "python -m preflight check --only app (example)": [
        sys.executable, "-m", "preflight", "check", "--only", "app",
        "--config", str(EXAMPLE / "pyproject.toml"), "--format", "json",
    ],
}  # fmt: skip
BASELINE = 'python -c "import service.main"'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFLIGHT_")}
    env["PYTHONPATH"] = str(EXAMPLE / "src")
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, argv in COMMANDS.items():
            started = time.perf_counter()
            subprocess.run(argv, cwd=REPO, env=env, capture_output=True, check=True)
            times[name].append((time.perf_counter() - started) * 1000)
    baseline = statistics.median(times[BASELINE])
    print(f"{runs} runs each, interleaved; wall time in ms")
    print("| command | median | min | max | vs import |\n|---|---|---|---|---|")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(
            f"| `{name}` | {median:.0f} | {min(samples):.0f} | {max(samples):.0f} "
            f"| {median / baseline:.2f}x |"
        )


if __name__ == "__main__":
    main()
