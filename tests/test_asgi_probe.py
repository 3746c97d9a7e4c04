"""The ASGI probe endpoint: mounted in a real FastAPI app under a real uvicorn, and standalone.

The server is started the way a container starts it: `preflight run -- python -m uvicorn ...`
(the run writes the report the endpoint reads, then execs uvicorn). The database is the local
PostgreSQL behind a TCP forwarder this file controls: closing the forwarder is "the database
goes away", and its connection count is how many live runs the endpoint made.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from conftest import child_env
from test_database import needs_postgres
from test_probe import SilentListener, closed_port, passing_report

from preflight.asgi import probe_app
from preflight.codes import ExitCode
from preflight.render import render_json
from preflight.report import CheckResult

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from preflight.checks.base import CheckContext

APP = """\
import os

from fastapi import FastAPI

from preflight.asgi import probe_app

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}


app.mount(
    "/_preflight",
    probe_app(report=os.environ["TEST_REPORT"], ttl=os.environ["TEST_TTL"], budget="1s"),
)
"""


class Forwarder:
    """A TCP forwarder on 127.0.0.1 to PostgreSQL; `close()` makes the database go away."""

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self._target = target
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self.accepted = 0
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self._server.accept()
                self.accepted += 1
                upstream = socket.create_connection(self._target)
                self._sockets += [client, upstream]
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with contextlib.suppress(OSError):  # wakes the accept thread; close alone does not
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()


class Server:
    """A server process on a free 127.0.0.1 port, output to files, stopped at teardown."""

    def __init__(self, argv: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.port = closed_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = cwd / f"server-{self.port}.log"
        with self._log.open("wb") as log:
            self.process = subprocess.Popen(
                [arg.replace("{port}", str(self.port)) for arg in argv],
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited {self.process.returncode}: {self.output()}")
            with contextlib.suppress(httpx.TransportError):
                httpx.get(self.url + path, timeout=5)
                return
            time.sleep(0.05)
        pytest.fail(f"server not ready in 30 s: {self.output()}")

    def output(self) -> str:
        return self._log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def forwarder() -> Iterator[Forwarder]:
    forward = Forwarder()
    yield forward
    forward.close()


def serve_app(tmp_path: Path, dsn: str, ttl: str) -> Server:
    """`preflight run --only database -- uvicorn app:app`: the report, then the real server."""
    (tmp_path / "app.py").write_text(APP)
    report = tmp_path / "report.json"
    env = child_env(DATABASE_URL=dsn, TEST_REPORT=str(report), TEST_TTL=ttl)
    server = Server(
        [sys.executable, "-m", "preflight", "run", "--only", "database", "--report", str(report),
         "--", sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1",
         "--port", "{port}", "--no-access-log"],
        cwd=tmp_path, env=env,
    )  # fmt: skip
    server.wait_ready("/ping")
    return server


@pytest.fixture
def served(tmp_path: Path) -> Iterator[list[Server]]:
    servers: list[Server] = []
    yield servers
    for server in servers:
        server.stop()


# --- a real FastAPI app under a real uvicorn -------------------------------------------------


@needs_postgres
@pytest.mark.realtime
def test_200_with_the_report_then_503_after_the_database_goes_away(
    tmp_path: Path, forwarder: Forwarder, served: list[Server]
) -> None:
    dsn = f"postgresql://postgres@127.0.0.1:{forwarder.port}/test"
    server = serve_app(tmp_path, dsn, ttl="200ms")
    served.append(server)

    ok = httpx.get(server.url + "/_preflight/", timeout=10)
    assert ok.status_code == 200, ok.text
    assert ok.headers["content-type"] == "application/json"
    assert ok.headers["cache-control"] == "no-store"
    body = ok.json()
    assert body["status"] == "pass"
    assert body["last_run"]["report"]["schema"] == "preflight.report/1"
    assert body["last_run"]["path"] == str(tmp_path / "report.json")
    live = {c["name"]: c["status"] for c in body["live"]["checks"]}
    assert live["database"] == "pass"

    forwarder.close()
    time.sleep(0.3)  # past the TTL: the next probe runs the live checks again
    gone = httpx.get(server.url + "/_preflight/", timeout=10)
    assert gone.status_code == 503
    body = gone.json()
    assert body["exit_code"] == 7
    assert body["reason"].startswith("live checks: database failed (exit 7): connection refused")
    head = httpx.head(server.url + "/_preflight/", timeout=10)
    assert head.status_code == 503
    assert head.content == b""
    assert int(head.headers["content-length"]) > 0


@needs_postgres
def test_concurrent_probes_within_the_ttl_share_one_live_run(
    tmp_path: Path, forwarder: Forwarder, served: list[Server]
) -> None:
    dsn = f"postgresql://postgres@127.0.0.1:{forwarder.port}/test"
    server = serve_app(tmp_path, dsn, ttl="60s")
    served.append(server)
    before = forwarder.accepted  # the run's own check before it exec'd uvicorn

    async def probe_many(n: int) -> list[int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            answers = await asyncio.gather(*(client.get("/_preflight/") for _ in range(n)))
        return [answer.status_code for answer in answers]

    assert asyncio.run(probe_many(20)) == [200] * 20
    assert asyncio.run(probe_many(5)) == [200] * 5
    assert forwarder.accepted - before == 1


@pytest.mark.realtime
def test_a_slow_live_check_does_not_block_the_server(tmp_path: Path, served: list[Server]) -> None:
    silent = SilentListener()
    try:
        report = tmp_path / "report.json"
        report.write_text(render_json(passing_report()))
        (tmp_path / "app.py").write_text(APP)
        env = child_env(
            DATABASE_URL=f"postgresql://postgres@127.0.0.1:{silent.port}/test",
            TEST_REPORT=str(report),
            TEST_TTL="1ms",
        )
        server = Server(
            [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1",
             "--port", "{port}"],
            cwd=tmp_path, env=env,
        )  # fmt: skip
        served.append(server)
        server.wait_ready("/ping")

        async def probe_and_ping() -> tuple[int, bool]:
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
                probe = asyncio.ensure_future(client.get("/_preflight/"))
                # once connected, the live check is waiting on a database that never answers
                assert await asyncio.to_thread(silent.connected.wait, 10)
                ping = await client.get("/ping")
                assert ping.json() == {"ok": True}
                pending = not probe.done()
                return (await probe).status_code, pending

        status, pending_while_pinged = asyncio.run(probe_and_ping())
        assert pending_while_pinged
        assert status == 503
    finally:
        silent.close()


def test_standalone_under_uvicorn_as_a_factory(tmp_path: Path, served: list[Server]) -> None:
    report = tmp_path / "report.json"
    report.write_text(render_json(passing_report()))
    server = Server(
        [sys.executable, "-m", "uvicorn", "--factory", "preflight.asgi:probe_app",
         "--host", "127.0.0.1", "--port", "{port}", "--lifespan", "on"],
        cwd=tmp_path, env=child_env(PREFLIGHT_REPORT=str(report)),
    )  # fmt: skip
    served.append(server)
    server.wait_ready("/")
    answer = httpx.get(server.url + "/anything", timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["reason"] == "the last run passed; live checks pass (none configured)"
    assert "Waiting for application startup." in server.output()
    assert "Application startup complete." in server.output()


# --- the endpoint in-process, through httpx's ASGI transport ---------------------------------


class Counting:
    """A live `database` check that counts its runs and takes a little while."""

    name = "database"
    exit_code = ExitCode.DATABASE

    def __init__(self) -> None:
        self.runs = 0

    def skip_reason(self, ctx: CheckContext) -> str | None:
        return None

    async def run(self, ctx: CheckContext) -> CheckResult:
        self.runs += 1
        await asyncio.sleep(0.05)
        return CheckResult.from_findings("database", [], "counted")


def write_report(tmp_path: Path, **changes: Any) -> Path:
    path = tmp_path / "report.json"
    data = json.loads(render_json(passing_report()))
    data.update(changes)
    path.write_text(json.dumps(data))
    return path


async def get(app: Any, path: str = "/", method: str = "GET") -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        return await client.request(method, path)


@pytest.mark.asyncio
async def test_concurrent_outcomes_share_one_run_and_the_ttl_expires(tmp_path: Path) -> None:
    check = Counting()
    app = probe_app(report=write_report(tmp_path), ttl="150ms", environ={}, registry=[check])
    outcomes = await asyncio.gather(*(app.outcome() for _ in range(50)))
    assert {o.exit_code for o in outcomes} == {0}
    assert check.runs == 1
    assert (await get(app)).status_code == 200
    assert check.runs == 1
    await asyncio.sleep(0.2)
    await app.outcome()
    assert check.runs == 2
    assert app.runs == 2


@pytest.mark.asyncio
async def test_a_failed_run_answers_503_without_live_checks(tmp_path: Path) -> None:
    check = Counting()
    report = write_report(tmp_path, status="fail", exit_code=4)
    app = probe_app(report=report, environ={}, registry=[check])
    answer = await get(app)
    assert answer.status_code == 503
    assert answer.json()["reason"] == "the last run failed: app failed (exit 4)"
    assert answer.json()["last_run"]["report"]["exit_code"] == 4
    assert check.runs == 0


@pytest.mark.asyncio
async def test_no_report_is_503_unless_not_required(tmp_path: Path) -> None:
    check = Counting()
    missing = tmp_path / "none.json"
    app = probe_app(report=missing, environ={}, registry=[check])
    answer = await get(app)
    assert answer.status_code == 503
    assert answer.json()["exit_code"] == 2
    assert answer.json()["reason"] == f"no report at {missing} yet"
    relaxed = probe_app(report=missing, environ={}, registry=[check], require_report=False)
    answer = await get(relaxed)
    assert answer.status_code == 200
    assert answer.json()["reason"].startswith(f"no report (no report at {missing} yet);")
    assert check.runs == 1


@pytest.mark.asyncio
async def test_detail_false_answers_only_the_verdict(tmp_path: Path) -> None:
    app = probe_app(report=write_report(tmp_path), environ={}, registry=[Counting()], detail=False)
    answer = await get(app)
    assert answer.status_code == 200
    assert set(answer.json()) == {"schema", "status", "exit_code", "reason"}


@pytest.mark.asyncio
async def test_only_get_and_head(tmp_path: Path) -> None:
    app = probe_app(report=write_report(tmp_path), environ={}, registry=[Counting()])
    answer = await get(app, method="POST")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD"
    head = await get(app, method="HEAD")
    assert head.status_code == 200
    assert head.content == b""


@pytest.mark.asyncio
async def test_a_bad_configuration_is_503_naming_the_key(tmp_path: Path) -> None:
    app = probe_app(report=write_report(tmp_path), environ={"PREFLIGHT_PROBE__TTL": "soon"})
    answer = await get(app)
    assert answer.status_code == 503
    assert answer.json()["exit_code"] == 2
    assert answer.json()["reason"].startswith("configuration error: PREFLIGHT_PROBE__TTL")


@pytest.mark.asyncio
async def test_no_password_in_the_answer(tmp_path: Path) -> None:
    secret = "hunter2-secret"  # noqa: S105 - the test's fake password
    environ = {"DATABASE_URL": f"postgresql://app:{secret}@127.0.0.1:{closed_port()}/app"}
    app = probe_app(report=write_report(tmp_path), environ=environ, budget="300ms")
    answer = await get(app)
    assert answer.status_code == 503
    assert answer.json()["exit_code"] == 7
    assert secret not in answer.text
    assert "postgresql://app:***@127.0.0.1" in answer.text


def test_bad_arguments_fail_at_once() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        probe_app(ttl="soon")
