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
import sys
from pathlib import Path

from interleave import interleaved, print_table

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
    times = interleaved(COMMANDS, runs, cwd=REPO, env=env)
    print_table(times, runs, BASELINE, "vs import")


if __name__ == "__main__":
    main()
