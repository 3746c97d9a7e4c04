"""What `entrypoint.sh` adds before the server answers: time to the first HTTP 200.

    python benchmarks/entrypoint.py [--runs 10]

Starts the bundled example's real uvicorn on a free 127.0.0.1 port, `--runs` times each way,
interleaved (so machine noise hits both alike): directly (`uvicorn service.main:app ...`) and
through `sh entrypoint.sh uvicorn service.main:app ...` (preflight's `run` checks, then exec).
Each sample is the wall time from process start to the first `GET /health` answering 200,
polled every 5 ms. Prints median, min and max per way, and the median overhead.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "service"
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
POLL_S = 0.005
TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def time_to_first_200(argv: list[str], port: int, env: dict[str, str]) -> float:
    """Seconds from starting `argv` to the first 200 on /health; the server is then stopped."""
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, cwd=EXAMPLE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        with httpx.Client(trust_env=False, timeout=1) as client:
            while time.perf_counter() - started < TIMEOUT_S:
                if child.poll() is not None:
                    sys.exit(f"{argv[0]} exited {child.returncode} before serving")
                try:
                    if client.get(f"http://{HOST}:{port}/health").status_code == 200:
                        return time.perf_counter() - started
                except httpx.TransportError:
                    pass
                time.sleep(POLL_S)
        sys.exit(f"no answer within {TIMEOUT_S} s")
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFLIGHT_")}
    env.pop("DATABASE_URL", None)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = "src"
    ways = {
        "uvicorn directly": [],
        "sh entrypoint.sh uvicorn": ["sh", str(REPO / "entrypoint.sh")],
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    with tempfile.TemporaryDirectory() as tmp:
        env["TMPDIR"] = tmp
        for _ in range(runs):
            for name, prefix in ways.items():
                port = free_port()
                server = ["uvicorn", "service.main:app", "--host", HOST, "--port", str(port)]
                times[name].append(time_to_first_200([*prefix, *server], port, env) * 1000)
    print(f"{runs} runs each, interleaved; ms from process start to the first HTTP 200")
    print("| command | median | min | max |\n|---|---|---|---|")
    for name, samples in times.items():
        print(
            f"| `{name}` | {statistics.median(samples):.0f} | {min(samples):.0f}"
            f" | {max(samples):.0f} |"
        )
    direct, wrapped = (statistics.median(times[name]) for name in ways)
    print(
        f"\nmedian overhead of entrypoint.sh: {wrapped - direct:+.0f} ms ({wrapped / direct:.2f}x)"
    )


if __name__ == "__main__":
    main()
