"""Load: 50 preflight processes at once against one PostgreSQL with `max_connections = 20`.

Every process holds its connection for a while (the check query sleeps), so most of them meet
"too many connections" at first; retries with full jitter inside the budget must get every one
of them through. The figures (p50/p95 time to pass, attempts histogram) go to the README.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from conftest import child_env
from scratch_postgres import postgres_bin, scratch_cluster

PROCESSES = 50
MAX_CONNECTIONS = 20
BUDGET_S = 15
#: How long each process keeps its connection: long enough that 50 cannot all fit at once.
HOLD_S = 0.5

pytestmark = [pytest.mark.reliability, pytest.mark.realtime]


def _needs_initdb() -> None:
    if postgres_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must be able to run initdb for the load test")
        pytest.skip("initdb is not installed here (PostgreSQL's server package)")


def _run_all(env: dict[str, str], cwd: str) -> list[tuple[int, float, str]]:
    """Start every process at once; return (exit code, seconds to exit, stdout) for each."""
    command = [sys.executable, "-m", "preflight", "check", "--only", "database"]
    command += ["--budget", f"{BUDGET_S}s", "--format", "json", "--log-format", "json"]
    results: list[tuple[int, float, str]] = [(-1, 0.0, "")] * PROCESSES
    threads = []

    def one(index: int) -> None:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        stdout, _ = process.communicate(timeout=BUDGET_S + 30)
        results[index] = (process.returncode, time.perf_counter() - started, stdout)

    for index in range(PROCESSES):
        thread = threading.Thread(target=one, args=(index,))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return results


def test_fifty_processes_share_twenty_connections(tmp_path, record_figure):
    _needs_initdb()
    with scratch_cluster(max_connections=str(MAX_CONNECTIONS)) as port:
        env = child_env(
            DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/postgres",
            PREFLIGHT_DATABASE__QUERY=f"SELECT pg_sleep({HOLD_S})",
        )
        results = _run_all(env, str(tmp_path))

    codes = Counter(code for code, _, _ in results)
    attempts = Counter(
        json.loads(stdout)["checks"][_database_index(stdout)]["metrics"].get("attempts")
        for _, _, stdout in results
        if stdout.strip()
    )
    times = sorted(seconds for _, seconds, _ in results)
    p50 = statistics.median(times)
    p95 = times[round(0.95 * (len(times) - 1))]
    record_figure("load: processes passed", f"{codes[0]}/{PROCESSES}")
    record_figure("load: time to pass p50", round(p50, 2), "s")
    record_figure("load: time to pass p95", round(p95, 2), "s")
    record_figure("load: attempts histogram", dict(sorted(attempts.items())))

    assert codes == {0: PROCESSES}, f"exit codes {dict(codes)}, attempts {dict(attempts)}"
    # The point of the test: connections really ran out, and retries healed it.
    assert sum(n for tries, n in attempts.items() if tries > 1) > 0, attempts


def _database_index(stdout: str) -> int:
    checks = json.loads(stdout)["checks"]
    return next(i for i, check in enumerate(checks) if check["name"] == "database")
