"""How far past its budget a run with stuck checks ends: the deadline's overrun, measured.

    python benchmarks/deadline.py [--runs 10] [--budget 1]

The child (tests/misbehaving_checks.py) runs the real entry point with three checks that
never finish: one sleeping, one blocked in an executor thread, one swallowing cancellation.
The budget counts from the process's start (imports included), so the overrun is simply wall
time - budget: what a container start sees past its budget.
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
CHILD = REPO / "tests" / "misbehaving_checks.py"


def wall(checks: str, budget: float) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFLIGHT_")}
    env["CHECKS"] = checks
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(CHILD), "check", "--budget", f"{budget}s"],
        env=env,
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - started, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--budget", type=float, default=1.0)
    args = parser.parse_args()
    stuck, baseline, codes = [], [], set()
    for _ in range(args.runs):
        took, code = wall("database=sleeps,services=thread,distributions=stubborn", args.budget)
        stuck.append(took)
        codes.add(code)
        baseline.append(wall("", args.budget)[0])
    overruns = [(took - args.budget) * 1000 for took in stuck]
    print(f"{args.runs} runs, budget {args.budget}s, exit codes {sorted(codes)}")
    print(f"wall time with stuck checks: median {statistics.median(stuck) * 1000:.0f} ms, "
          f"max {max(stuck) * 1000:.0f} ms")  # fmt: skip
    print(f"a passing run of the same child: median {statistics.median(baseline) * 1000:.0f} ms")
    print(f"overrun past the budget (wall - budget): median {statistics.median(overruns):.0f} ms, "
          f"max {max(overruns):.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
