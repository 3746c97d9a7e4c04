"""What the start-cost benchmarks share: commands run round-robin, and the median table.

Round-robin (each round runs every command once) spreads machine noise over all commands
alike, so their ratios hold where single figures drift.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping
    from pathlib import Path


def interleaved(
    commands: Mapping[str, list[str]],
    runs: int,
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    must_pass: Collection[str] | None = None,
) -> dict[str, list[float]]:
    """Wall times in ms of `runs` rounds; a command in `must_pass` (all by default) exiting
    non-zero ends the benchmark, since its figure would time the wrong thing."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            started = time.perf_counter()
            done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
            times[name].append((time.perf_counter() - started) * 1000)
            if (must_pass is None or name in must_pass) and done.returncode != 0:
                sys.exit(f"{name} exited {done.returncode}: {done.stdout.decode()[-500:]}")
    return times


def print_table(times: Mapping[str, list[float]], runs: int, baseline: str, label: str) -> None:
    """The README's table: median, min, max and each median's ratio to `baseline`'s."""
    base = statistics.median(times[baseline])
    print(f"{runs} runs each, interleaved; wall time in ms")
    print(f"| command | median | min | max | {label} |\n|---|---|---|---|---|")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(
            f"| `{name}` | {median:.0f} | {min(samples):.0f} | {max(samples):.0f} "
            f"| {median / base:.2f}x |"
        )
