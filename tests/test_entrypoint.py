"""entrypoint.sh with real processes: a real uvicorn, real signals, real exit codes.

Every child is started the way a container starts it: `sh entrypoint.sh CMD...`, with the
venv's `python` first on PATH (as an image's venv is), and the example's config found in the
working directory.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from conftest import EXAMPLE, REPO, Completed, child_env

if TYPE_CHECKING:
    from collections.abc import Iterator

ENTRYPOINT = REPO / "entrypoint.sh"
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
#: Longest wait for a real server to answer on this loaded 2-core machine.
START_TIMEOUT_S = 60.0


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The child's environment: the venv first on PATH, reports under tmp_path, src importable."""
    base = child_env()
    return child_env(
        PATH=f"{VENV_BIN}{os.pathsep}{base.get('PATH', '')}",
        TMPDIR=str(tmp_path),
        PYTHONPATH="src",
        **extra,
    )


def entrypoint(*command: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["sh", str(ENTRYPOINT), *command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(child: subprocess.Popen[str], timeout: float = 60) -> Completed:
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise
    return Completed(child.returncode, out, err)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def is_listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((HOST, port)) == 0


def wait_for_health(port: int, child: subprocess.Popen[str]) -> httpx.Response:
    """GET /health until it answers (or the child exits, or the bound runs out)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(trust_env=False, timeout=2) as client:
        while time.monotonic() < deadline:
            if child.poll() is not None:
                pytest.fail(f"exited {child.returncode} before serving: {child.stderr.read()}")  # type: ignore[union-attr]
            try:
                return client.get(f"http://{HOST}:{port}/health")
            except httpx.TransportError:
                time.sleep(0.05)
    pytest.fail(f"no answer on port {port} within {START_TIMEOUT_S} s")


def listening_inode(port: int) -> str:
    """The socket inode of the TCP listener on 127.0.0.1:port, from /proc/net/tcp."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if local == f"0100007F:{port:04X}" and state == "0A":  # 0A: LISTEN
            return inode
    pytest.fail(f"no listener on {HOST}:{port} in /proc/net/tcp")


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = str(fd.readlink())
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


@pytest.fixture
def broken_example(tmp_path: Path) -> Path:
    """A copy of the example whose app factory imports a module that does not exist."""
    copy = tmp_path / "service"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    factory = copy / "src" / "service" / "app_factory.py"
    source = factory.read_text()
    first_import = "from fastapi import FastAPI\n"
    factory.write_text(source.replace(first_import, f"import auth_service\n{first_import}", 1))
    assert "import auth_service" in factory.read_text()
    return copy


@pytest.fixture
def silent_listener() -> Iterator[tuple[int, threading.Event]]:
    """A TCP listener that accepts connections and never answers: a check stalls on it.

    The event is set once a client has connected, i.e. a check is waiting on it.
    """
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(8)
    listener.settimeout(0.2)
    connected, stop = threading.Event(), threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)
            connected.set()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], connected
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


def test_entrypoint_passes_shellcheck_as_posix_sh() -> None:
    shellcheck = VENV_BIN / "shellcheck"
    done = subprocess.run(
        [str(shellcheck), "--shell=sh", "--severity=style", str(ENTRYPOINT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_entrypoint_is_executable_and_execs_preflight_run() -> None:
    assert os.access(ENTRYPOINT, os.X_OK)
    text = ENTRYPOINT.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert 'exec python -m preflight run -- "$@"' in text
    assert 'ENTRYPOINT ["/app/entrypoint.sh"]' in text  # the header shows the Dockerfile lines


@pytest.mark.realtime
def test_passing_example_becomes_a_real_uvicorn_with_the_same_pid(tmp_path: Path) -> None:
    port = free_port()
    child = entrypoint(
        "uvicorn", "service.main:app", "--host", HOST, "--port", str(port),
        cwd=EXAMPLE, env=env_for(tmp_path),
    )  # fmt: skip
    try:
        response = wait_for_health(port, child)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        # The process the test started is now uvicorn itself (sh and preflight exec'd in turn),
        # and it is the one holding the listening socket.
        cmdline = Path(f"/proc/{child.pid}/cmdline").read_bytes().split(b"\0")
        assert any(part.endswith(b"uvicorn") for part in cmdline), cmdline
        assert b"service.main:app" in cmdline
        assert listening_inode(port) in socket_inodes(child.pid)
        report = json.loads((tmp_path / "preflight" / "report.json").read_text())
        assert (report["status"], report["exit_code"]) == ("warn", 0)
        statuses = {c["name"]: c["status"] for c in report["checks"]}
        assert statuses["imports"] == "pass"
        assert statuses["bind"] == "warn"  # 127.0.0.1: PF421, a warning, so the server starts
        child.send_signal(signal.SIGTERM)
        done = finish(child, timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert done.returncode in {0, -signal.SIGTERM}  # uvicorn re-raises SIGTERM after shutdown
    assert not is_listening(port)
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert any(e.get("code") == "PF421" for e in events)


@pytest.mark.realtime
def test_failing_example_exits_3_and_the_server_never_starts(
    tmp_path: Path, broken_example: Path
) -> None:
    port = free_port()
    marker = tmp_path / "server-started"
    server = f'touch "$0"; exec uvicorn service.main:app --host {HOST} --port {port}'
    child = entrypoint("sh", "-c", server, str(marker), cwd=broken_example, env=env_for(tmp_path))
    done = finish(child)
    assert done.returncode == 3, done.stderr
    assert not marker.exists()
    assert not is_listening(port)
    report = json.loads(done.stdout)  # on failure the report is printed
    assert report["exit_code"] == 3
    finding = next(f for f in report["findings"] if f["code"] == "PF301")
    assert "auth_service" in finding["message"]
    assert finding["file"] == "service/app_factory.py"
    assert json.loads((tmp_path / "preflight" / "report.json").read_text())["exit_code"] == 3


def test_the_same_command_on_the_passing_example_does_start(tmp_path: Path) -> None:
    """The control for the test above: the marker command runs when the checks pass."""
    marker = tmp_path / "server-started"
    done = finish(
        entrypoint("sh", "-c", 'touch "$0"', str(marker), cwd=EXAMPLE, env=env_for(tmp_path))
    )
    assert done.returncode == 0, done.stderr
    assert marker.exists()


@pytest.mark.realtime
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_check_exits_promptly_and_the_server_never_starts(
    tmp_path: Path,
    silent_listener: tuple[int, threading.Event],
    signum: signal.Signals,
    code: int,
) -> None:
    port, connected = silent_listener
    marker = tmp_path / "server-started"
    env = env_for(
        tmp_path,
        PREFLIGHT_BUDGET="60s",
        PREFLIGHT_DATABASE__URL=f"postgresql://preflight@{HOST}:{port}/app",
        PREFLIGHT_DATABASE__CONNECT_TIMEOUT="60s",
    )
    child = entrypoint(sys.executable, "-c", f"open({str(marker)!r}, 'w')", cwd=tmp_path, env=env)
    try:
        assert connected.wait(timeout=START_TIMEOUT_S), "the database check never connected"
        time.sleep(0.2)  # the check is now waiting for an answer that never comes
        assert child.poll() is None
        child.send_signal(signum)
        sent = time.monotonic()
        done = finish(child, timeout=30)
        elapsed = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert done.returncode == code, done.stderr
    assert elapsed < 1.0 + 1.5, f"took {elapsed:.2f}s"  # 1 s promised, 1.5 s for a loaded host
    assert not marker.exists()
    events = done.events()
    assert any(e["message"] == "preflight.interrupted" for e in events)
    assert json.loads(done.stdout)["exit_code"] == code


def test_preflight_variables_pass_through_the_entrypoint(tmp_path: Path) -> None:
    marker = tmp_path / "server-started"
    server = f'touch "$0"; exec uvicorn app:app --host {HOST}'
    strict = finish(
        entrypoint("sh", "-c", server, str(marker), cwd=tmp_path,
                   env=env_for(tmp_path, PREFLIGHT_STRICT="1")),
    )  # fmt: skip
    assert strict.returncode == 4  # the PF421 warning fails under strict
    assert not marker.exists()
    assert [f["code"] for f in json.loads(strict.stdout)["findings"]] == ["PF421"]


def test_disable_execs_at_once_through_the_entrypoint(tmp_path: Path, broken_example: Path) -> None:
    marker = tmp_path / "server-started"
    done = finish(
        entrypoint("sh", "-c", 'touch "$0"', str(marker), cwd=broken_example,
                   env=env_for(tmp_path, PREFLIGHT_DISABLE="1")),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert marker.exists()  # the broken import was not checked
    assert [e["message"] for e in done.events()] == ["preflight.disabled"]


def test_without_a_command_the_entrypoint_says_so_in_one_line(tmp_path: Path) -> None:
    done = finish(entrypoint(cwd=tmp_path, env=env_for(tmp_path)))
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("Error: ")


def test_a_mistyped_option_is_a_usage_error_not_the_server_command(tmp_path: Path) -> None:
    # click hands an unknown option to CMD: `run --stirct -- uvicorn ...` ran every check,
    # then tried to exec "--stirct" (exit 127). It is a usage error, before any check.
    marker = tmp_path / "started"
    done = finish(
        entrypoint("--stirct", "--", "touch", str(marker), cwd=tmp_path, env=env_for(tmp_path))
    )
    assert done.returncode == 2
    assert "Error: no such option: --stirct (the server command goes after --)" in done.stderr
    assert "check.finished" not in done.stderr
    assert not marker.exists()


def test_the_server_starts_with_the_signal_dispositions_a_shell_gives(tmp_path: Path) -> None:
    """Python ignores SIGPIPE and SIGXFSZ; `run` must not hand that down to the server."""
    show = "grep '^SigIgn' /proc/$$/status"
    direct = subprocess.run(
        ["sh", "-c", show], capture_output=True, text=True, check=True, timeout=60
    )
    done = finish(entrypoint("sh", "-c", show, cwd=tmp_path, env=env_for(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert done.stdout == direct.stdout
