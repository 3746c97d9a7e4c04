"""The database check against bare asyncpg and pg_isready, and its overrun on a silent server.

    python benchmarks/database.py [--runs 10] [--blackhole-runs 20] [--dsn postgresql://...]

1. Wall time of whole processes, interleaved round-robin, against the local PostgreSQL:
   `preflight check --only database`, a bare `asyncpg.connect` + `SELECT 1` + `close`, and
   `pg_isready` (which only asks whether the server accepts connections).
2. A listener on 127.0.0.1 that accepts connections (the kernel completes the handshake) and
   never answers: `preflight check --only database --budget 1s`, `--blackhole-runs` times.
   Reported: wall time minus the budget (everything a container start would see), and the
   same net of a passing run's wall time (interpreter start, imports, exit).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

BARE = """
import asyncio, asyncpg, sys
async def main():
    conn = await asyncpg.connect(sys.argv[1], timeout=5)
    await conn.fetchval("SELECT 1")
    await conn.close()
asyncio.run(main())
"""


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    return time.perf_counter() - started, done.returncode


def environment(dsn: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFLIGHT_", "PG"))}
    env["DATABASE_URL"] = dsn
    return env


def compare(dsn: str, runs: int) -> None:
    env = environment(dsn)
    check = [sys.executable, "-m", "preflight", "check", "--only", "database"]
    commands = {
        "preflight check --only database": check,
        "bare asyncpg connect + SELECT 1 + close": [sys.executable, "-c", BARE, dsn],
    }
    pg_isready = shutil.which("pg_isready")
    if pg_isready:
        commands["pg_isready -h 127.0.0.1"] = [pg_isready, "-h", "127.0.0.1", "-p", "5432"]
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            took, code = timed(argv, env)
            if code != 0:
                sys.exit(f"{name} exited {code}")
            times[name].append(took * 1000)
    base = statistics.median(times["preflight check --only database"])
    print(f"{runs} runs each, interleaved; wall time in ms")
    print("| command | median | min | max | preflight / this |")
    print("|---|---|---|---|---|")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"| `{name}` | {median:.0f} | {min(samples):.0f} | {max(samples):.0f} "
              f"| {base / median:.2f}x |")  # fmt: skip


def blackhole(dsn: str, runs: int) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1000)  # never accepted: the handshake completes, no byte ever comes back
    port = listener.getsockname()[1]
    silent = f"postgresql://app@127.0.0.1:{port}/app"
    argv = [sys.executable, "-m", "preflight", "check", "--only", "database", "--budget", "1s"]
    overruns, passing, codes = [], [], set()
    for _ in range(runs):
        took, code = timed(argv, environment(silent))
        overruns.append((took - 1.0) * 1000)
        codes.add(code)
        passing.append(timed(argv, environment(dsn))[0] * 1000)
    start = statistics.median(passing)
    net = [overrun - start for overrun in overruns]
    print(f"\nsilent listener, budget 1s, {runs} runs, exit codes {sorted(codes)}")
    print(f"wall minus budget: median {statistics.median(overruns):.0f} ms, "
          f"max {max(overruns):.0f} ms")  # fmt: skip
    print(f"a passing run's wall time (start, imports, connect, exit): median {start:.0f} ms")
    print(f"net of that: median {statistics.median(net):.0f} ms, max {max(net):.0f} ms")
    listener.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--blackhole-runs", type=int, default=20)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    compare(args.dsn, args.runs)
    blackhole(args.dsn, args.blackhole_runs)


if __name__ == "__main__":
    main()
