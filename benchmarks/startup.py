"""What preflight adds to a cold start: whole processes, interleaved, side by side.

    python benchmarks/startup.py [--runs 10]

Runs each command `--runs` times in round-robin order (so machine noise hits all alike) and
prints the median, min and max wall time, and each median's ratio to `import click`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

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
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, argv in COMMANDS.items():
            started = time.perf_counter()
            subprocess.run(argv, cwd=REPO, capture_output=True, check=True)
            times[name].append((time.perf_counter() - started) * 1000)
    click_median = statistics.median(times['python -c "import click"'])
    print(f"{runs} runs each, interleaved; wall time in ms")
    print("| command | median | min | max | vs import click |\n|---|---|---|---|---|")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(
            f"| `{name}` | {median:.0f} | {min(samples):.0f} | {max(samples):.0f} "
            f"| {median / click_median:.2f}x |"
        )


if __name__ == "__main__":
    main()
