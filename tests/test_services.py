"""The services check against real listeners on 127.0.0.1 (and the local Redis).

Each test starts its own asyncio server in the test's loop: a TCP listener, a canned HTTP
server, a blackhole, a server that stalls after the headers, a fake RESP server. DNS failures
come from a patched `loop.getaddrinfo`, never from real lookups.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from preflight.checks.probes import ProbeError, parse_target
from preflight.checks.services import ServicesCheck
from preflight.config import Config
from preflight.report import CheckResult, Report, Status
from preflight.runner import run_checks

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

HOST = "127.0.0.1"


@dataclass
class Server:
    """A listener on 127.0.0.1 and how many connections it took."""

    port: int
    connections: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)


@contextlib.asynccontextmanager
async def serve(
    handler: Callable[[Server, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[Server]:
    """Run `handler` for each connection; on exit release stalled handlers and close."""
    state = Server(port=0)
    handlers: set[asyncio.Task[None]] = set()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        task = asyncio.ensure_future(handler(state, reader, writer))
        handlers.add(task)
        try:
            await task
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, HOST, 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        state.release.set()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        server.close()
        await server.wait_closed()


def http_answer(
    status: int, body: bytes = b"ok", *, fail_first: int = 0, fail_status: int = 503
) -> Callable[[Server, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    """A canned HTTP/1.1 server: `fail_status` for `fail_first` requests, then `status`."""

    async def handle(state: Server, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        code = fail_status if state.connections <= fail_first else status
        head = f"HTTP/1.1 {code} X\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
        if 300 <= code < 400:
            head += "Location: http://127.0.0.1:1/elsewhere\r\n"
        w.write(head.encode() + b"\r\n" + body)
        await w.drain()

    return handle


async def stall(state: Server, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    """Accept, and never answer."""
    await state.release.wait()


async def stall_after_headers(
    state: Server, reader: asyncio.StreamReader, w: asyncio.StreamWriter
) -> None:
    """Send the status line and headers of a 200 with a body, then never the body."""
    await reader.readuntil(b"\r\n\r\n")
    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
    await w.drain()
    await state.release.wait()


async def noauth(state: Server, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    """A Redis that wants a password: every command gets -NOAUTH."""
    while await reader.read(4096):
        w.write(b"-NOAUTH Authentication required.\r\n")
        await w.drain()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def config(*services: dict[str, Any], budget: str = "3s") -> Config:
    return Config.model_validate({"budget": budget, "services": list(services)})


async def run(cfg: Config) -> tuple[CheckResult, Report, float]:
    """Run only the services check; return its result, the report and the wall time."""
    started = time.monotonic()
    check = ServicesCheck(random.Random(7))  # noqa: S311 - seeded jitter
    report = await run_checks(cfg, [check], environ={})
    result = next(r for r in report.checks if r.name == "services")
    return result, report, time.monotonic() - started


def attempts(result: CheckResult, service: str) -> int:
    """How many attempts the check made at `service` (from its metrics)."""
    entry = result.metrics[service]
    assert isinstance(entry, dict)
    count = entry["attempts"]
    assert isinstance(count, int)
    return count


def codes(result: CheckResult) -> list[str]:
    return [f.code for f in result.findings]


# --- plain TCP -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_tcp_listener_passes() -> None:
    async with serve(stall) as server:
        result, report, _ = await run(config({"name": "db", "url": f"tcp://{HOST}:{server.port}"}))
    assert result.status is Status.PASS
    assert report.exit_code == 0
    assert result.metrics["db"] == {
        "attempts": 1,
        "status": "pass",
        "time_ms": pytest.approx(0, abs=500),
    }
    assert result.summary == "1 service reachable"


@pytest.mark.asyncio
async def test_closed_port_is_refused_within_budget() -> None:
    port = closed_port()
    result, report, wall = await run(
        config({"name": "auth", "url": f"tcp://{HOST}:{port}"}, budget="1s")
    )
    assert codes(result) == ["PF801"]
    assert report.exit_code == 8
    finding = result.findings[0]
    assert finding.name == "auth"
    assert f"tcp://{HOST}:{port}" in finding.message
    assert "attempts" in finding.message
    assert finding.hint is not None
    assert "is the service up" in finding.hint
    assert attempts(result, "auth") > 1
    assert 0.8 < wall < 1.5


@pytest.mark.asyncio
async def test_closed_port_over_http_is_refused() -> None:
    url = f"http://{HOST}:{closed_port()}/health"
    result, _, _ = await run(config({"name": "auth", "url": url}, budget="300ms"))
    assert codes(result) == ["PF801"]


@pytest.mark.asyncio
async def test_listener_that_starts_late_passes_after_retries() -> None:
    port = closed_port()

    async def start_late() -> asyncio.Server:
        await asyncio.sleep(0.4)
        return await asyncio.start_server(lambda _r, w: w.close(), HOST, port)

    starting = asyncio.ensure_future(start_late())
    try:
        result, _, _ = await run(config({"name": "db", "url": f"tcp://{HOST}:{port}"}))
    finally:
        server = await starting
        server.close()
        await server.wait_closed()
    assert result.status is Status.PASS, result.findings
    assert attempts(result, "db") > 1


@pytest.mark.asyncio
async def test_blackhole_http_times_out_within_budget() -> None:
    async with serve(stall) as server:
        result, report, wall = await run(
            config({"name": "api", "url": f"http://{HOST}:{server.port}/health"}, budget="1s")
        )
    assert codes(result) in (["PF802"], ["PF800"])
    assert report.exit_code == 8
    assert wall < 2.0


@pytest.mark.asyncio
async def test_services_run_concurrently() -> None:
    async with serve(stall) as hole, serve(stall) as other:
        result, _, wall = await run(
            config(
                {"name": "a", "url": f"tcp://{HOST}:{closed_port()}", "timeout": "5s"},
                {"name": "b", "url": f"http://{HOST}:{hole.port}/", "timeout": "5s"},
                {"name": "c", "url": f"tcp://{HOST}:{other.port}"},
                budget="1s",
            )
        )
    assert sorted(codes(result)) == ["PF801", "PF802"]
    assert result.summary == "2 of 3 services unreachable: a, b"
    assert wall < 1.5  # not the sum of the waits


# --- HTTP ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_http_200_passes() -> None:
    async with serve(http_answer(200)) as server:
        result, _, _ = await run(config({"name": "api", "url": f"http://{HOST}:{server.port}/"}))
    assert result.status is Status.PASS
    assert server.connections == 1


@pytest.mark.asyncio
async def test_http_redirect_passes_without_following() -> None:
    async with serve(http_answer(302)) as server:
        result, _, _ = await run(config({"name": "api", "url": f"http://{HOST}:{server.port}/"}))
    assert result.status is Status.PASS


@pytest.mark.asyncio
async def test_http_500_is_retried_then_fails_within_budget() -> None:
    async with serve(http_answer(500)) as server:
        result, _, wall = await run(
            config({"name": "api", "url": f"http://{HOST}:{server.port}/"}, budget="1s")
        )
    assert codes(result) == ["PF803"]
    assert "HTTP status 500" in result.findings[0].message
    assert server.connections > 1
    assert wall < 1.5


@pytest.mark.asyncio
async def test_http_503_then_200_passes_after_retries() -> None:
    async with serve(http_answer(200, fail_first=2)) as server:
        result, _, _ = await run(config({"name": "api", "url": f"http://{HOST}:{server.port}/"}))
    assert result.status is Status.PASS
    assert attempts(result, "api") == 3


@pytest.mark.asyncio
async def test_http_404_fails_at_once() -> None:
    async with serve(http_answer(404)) as server:
        result, _, wall = await run(config({"name": "api", "url": f"http://{HOST}:{server.port}/"}))
    assert codes(result) == ["PF803"]
    assert server.connections == 1
    assert "1 attempt in" in result.findings[0].message
    assert wall < 1.0


@pytest.mark.asyncio
async def test_expected_status_404_passes() -> None:
    async with serve(http_answer(404)) as server:
        url = f"http://{HOST}:{server.port}/"
        result, _, _ = await run(config({"name": "api", "url": url, "expect_status": [404]}))
    assert result.status is Status.PASS


@pytest.mark.asyncio
async def test_body_check_passes_and_fails() -> None:
    async with serve(http_answer(200, b'{"status": "healthy"}')) as server:
        url = f"http://{HOST}:{server.port}/"
        good, _, _ = await run(config({"name": "api", "url": url, "expect_body": "healthy"}))
        bad, _, _ = await run(config({"name": "api", "url": url, "expect_body": "ready"}))
    assert good.status is Status.PASS
    assert codes(bad) == ["PF804"]
    assert "'ready'" in bad.findings[0].message


@pytest.mark.asyncio
async def test_http_stalling_after_headers_times_out_within_budget() -> None:
    async with serve(stall_after_headers) as server:
        result, _, wall = await run(
            config({"name": "api", "url": f"http://{HOST}:{server.port}/"}, budget="1s")
        )
    assert codes(result) == ["PF802"]
    assert wall < 2.0


@pytest.mark.asyncio
async def test_password_in_url_never_shows() -> None:
    async with serve(http_answer(404)) as server:
        url = f"http://user:hunter2@{HOST}:{server.port}/"
        result, report, _ = await run(config({"name": "api", "url": url}))
    assert codes(result) == ["PF803"]
    assert "hunter2" not in json.dumps(report.to_dict())
    assert "hunter2" not in repr(result.findings)
    assert f"http://user:***@{HOST}:{server.port}/" in result.findings[0].message


async def plain_reply(state: Server, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    """Answer whatever arrives (a TLS ClientHello too) with plain-text HTTP."""
    await reader.read(4096)
    w.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    await w.drain()


@pytest.mark.asyncio
async def test_https_to_a_plain_listener_is_tls_failure_at_once() -> None:
    async with serve(plain_reply) as server:
        result, _, wall = await run(
            config({"name": "api", "url": f"https://{HOST}:{server.port}/"})
        )
    assert codes(result) == ["PF807"]
    assert server.connections == 1
    assert wall < 1.0


async def hang_up(state: Server, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    """Accept, then close at once (a proxy whose backend is down)."""


@pytest.mark.asyncio
async def test_peer_closing_is_reset_and_retried() -> None:
    async with serve(hang_up) as server:
        url = f"http://{HOST}:{server.port}/"
        result, _, wall = await run(config({"name": "api", "url": url}, budget="500ms"))
    assert codes(result) == ["PF808"]
    assert server.connections > 1
    assert wall < 1.0


# --- Redis ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_redis_ping_passes() -> None:
    result, _, _ = await run(config({"name": "cache", "url": f"redis://{HOST}:6379/1"}))
    assert result.status is Status.PASS, result.findings


@pytest.mark.asyncio
async def test_redis_noauth_fails_at_once_and_masks_password() -> None:
    async with serve(noauth) as server:
        url = f"redis://:hunter2@{HOST}:{server.port}/0"
        result, report, _ = await run(config({"name": "cache", "url": url}))
    assert codes(result) == ["PF806"]
    assert "NOAUTH" in result.findings[0].message
    assert server.connections == 1
    assert "hunter2" not in json.dumps(report.to_dict())


@pytest.mark.asyncio
async def test_redis_auth_select_ping_over_resp() -> None:
    seen: list[bytes] = []

    async def fake_redis(
        state: Server, reader: asyncio.StreamReader, w: asyncio.StreamWriter
    ) -> None:
        for reply in (b"+OK\r\n", b"+OK\r\n", b"+PONG\r\n"):
            seen.append(await read_command(reader))
            w.write(reply)
            await w.drain()

    async with serve(fake_redis) as server:
        url = f"redis://app:s%40cret@{HOST}:{server.port}/2"
        result, _, _ = await run(config({"name": "cache", "url": url}))
    assert result.status is Status.PASS, result.findings
    assert seen == [
        b"*3\r\n$4\r\nAUTH\r\n$3\r\napp\r\n$6\r\ns@cret\r\n",
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n",
        b"*1\r\n$4\r\nPING\r\n",
    ]


async def read_command(reader: asyncio.StreamReader) -> bytes:
    """Read one RESP array of bulk strings, verbatim."""
    head = await reader.readuntil(b"\r\n")
    raw = head
    for _ in range(int(head[1:-2])):
        size = await reader.readuntil(b"\r\n")
        raw += size + await reader.readexactly(int(size[1:-2]) + 2)
    return raw


# --- DNS (patched resolver, no real lookups) -----------------------------------------------


def patch_resolver(monkeypatch: pytest.MonkeyPatch, err: int) -> list[str]:
    """Make the running loop's getaddrinfo fail with `err` for every host; record the hosts."""
    asked: list[str] = []

    async def getaddrinfo(host: str, *args: object, **kwargs: object) -> list[Any]:
        asked.append(host)
        raise socket.gaierror(err, "patched resolver")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.asyncio
async def test_nxdomain_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = patch_resolver(monkeypatch, socket.EAI_NONAME)
    result, _, wall = await run(config({"name": "auth", "url": "tcp://auth.invalid:8081"}))
    assert codes(result) == ["PF805"]
    assert asked == ["auth.invalid"]
    assert result.findings[0].hint is not None
    assert "auth.invalid" in result.findings[0].hint
    assert wall < 1.0


@pytest.mark.asyncio
async def test_dns_temporary_failure_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = patch_resolver(monkeypatch, socket.EAI_AGAIN)
    result, _, _ = await run(
        config({"name": "auth", "url": "http://auth.invalid:8081/"}, budget="500ms")
    )
    assert codes(result) == ["PF805"]
    assert len(asked) > 1


# --- units -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_skip_without_services() -> None:
    result, _, _ = await run(config())
    assert result.status is Status.SKIP
    assert result.summary == "no services configured ([[tool.preflight.services]])"


def test_tcp_url_without_port_is_permanent() -> None:
    with pytest.raises(ProbeError) as caught:
        parse_target("tcp://db")
    assert not caught.value.transient
