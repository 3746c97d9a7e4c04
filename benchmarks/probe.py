"""What one `preflight probe` costs: whole processes, interleaved, side by side.

    python benchmarks/probe.py [--runs 20] [--dsn postgresql://postgres@127.0.0.1:5432/test]

First `preflight run --only database -- true` writes a passing report (as a container start
does); then each command runs `--runs` times in round-robin order (so machine noise hits all
alike). Prints the median, min and max wall time, and each median's ratio to `import click`
(the floor of any click program).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from interleave import interleaved, print_table

REPO = Path(__file__).resolve().parent.parent


def commands(report: Path, failed: Path) -> dict[str, list[str]]:
    probe = [sys.executable, "-m", "preflight", "probe"]
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import click"': [sys.executable, "-c", "import click"],
        "preflight probe (passing report + live database)": [*probe, "--report", str(report)],
        "preflight probe (failed report: no network)": [*probe, "--report", str(failed)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFLIGHT_")}
    env["DATABASE_URL"] = args.dsn
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        report, failed = cwd / "report.json", cwd / "failed.json"
        run = [sys.executable, "-m", "preflight", "run", "--only", "database"]
        subprocess.run(
            [*run, "--report", str(report), "--", "true"],
            cwd=cwd,
            env=env,
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [*run, "--report", str(failed), "--", "true"],
            cwd=cwd,
            env={**env, "DATABASE_URL": "mysql://nobody@127.0.0.1/none"},
            check=False,
            capture_output=True,
        )
        table = commands(report, failed)
        passing = [name for name in table if "passing" in name]
        times = interleaved(table, args.runs, cwd=cwd, env=env, must_pass=passing)
    print_table(times, args.runs, 'python -c "import click"', "vs import click")


if __name__ == "__main__":
    main()
