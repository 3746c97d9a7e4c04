"""What preflight adds to a cold start: whole processes, interleaved, side by side.

    python benchmarks/startup.py [--runs 10]

Runs each command `--runs` times in round-robin order (so machine noise hits all alike) and
prints the median, min and max wall time, and each median's ratio to `import click`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from interleave import interleaved, print_table

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = REPO / "examples" / "service" / "pyproject.toml"

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    'python -c "import click"': [sys.executable, "-c", "import click"],
    "python -m preflight --version": [sys.executable, "-m", "preflight", "--version"],
    "python -m preflight check (example)": [
        sys.executable,
        "-m",
        "preflight",
        "check",
        "--config",
        str(EXAMPLE_CONFIG),
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    times = interleaved(COMMANDS, runs, cwd=REPO)
    print_table(times, runs, 'python -c "import click"', "vs import click")


if __name__ == "__main__":
    main()
