"""The database check: DSN sources and forms, error classes, and real servers on 127.0.0.1.

Real-server tests use only the local PostgreSQL (127.0.0.1:5432 and its unix socket) and
listeners this file opens on 127.0.0.1. Without a reachable PostgreSQL they are skipped,
unless $CI is set: there they must run.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import REPO, child_env

from preflight.checks import dsn as dsns
from preflight.checks.database import (
    DatabaseCheck,
    QueryFailedError,
    classify,
)
from preflight.checks.dsn import DsnError, DsnSource
from preflight.checks.migrations import Revisions, migration_problem, read_revisions
from preflight.config import Config, DatabaseConfig
from preflight.report import CheckResult, Report, Status
from preflight.runner import run_checks

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

PG = "postgresql://postgres@127.0.0.1:5432/test"
SOCKET_DIR = Path("/var/run/postgresql")


def _postgres_reachable() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 5432), 0.5):
        return True
    return False


needs_postgres = pytest.mark.skipif(
    not os.environ.get("CI") and not _postgres_reachable(),
    reason="no PostgreSQL on 127.0.0.1:5432 (these tests must run in CI, where $CI is set)",
)


async def run_database(
    url: str | None = None,
    *,
    budget: str = "5s",
    environ: Mapping[str, str] | None = None,
    **database: object,
) -> tuple[CheckResult, Report, float]:
    """Run only the database check through the real runner; returns its result and the time."""
    section: dict[str, object] = dict(database)
    if url is not None:
        section["url"] = url
    config = Config.model_validate({"budget": budget, "only": "database", "database": section})
    started = time.monotonic()
    report = await run_checks(config, [DatabaseCheck()], environ=environ or {})
    elapsed = time.monotonic() - started
    result = next(check for check in report.checks if check.name == "database")
    return result, report, elapsed


def codes(result: CheckResult) -> list[str]:
    return [finding.code for finding in result.findings]


def free_port() -> int:
    """A port nothing listens on (bound, read, closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- DSN sources and forms (no server) -----------------------------------------------------


def test_database_url_wins_over_the_variable_and_libpq() -> None:
    config = DatabaseConfig(url="postgresql://a@h/d")
    environ = {"DATABASE_URL": "postgresql://b@h/d", "PGHOST": "x"}
    assert dsns.find_source(config, environ) == DsnSource("postgresql://a@h/d", "database.url")


def test_the_named_variable_comes_next_then_libpq() -> None:
    config = DatabaseConfig(url_env="APP_DB")
    assert dsns.find_source(config, {"APP_DB": "postgres://b@h/d", "PGHOST": "x"}) == DsnSource(
        "postgres://b@h/d", "$APP_DB"
    )
    libpq = dsns.find_source(config, {"PGHOST": "x"})
    assert libpq is not None
    assert libpq.dsn is None
    assert dsns.find_source(config, {"APP_DB": "  "}) is None
    assert dsns.find_source(DatabaseConfig(), {}) is None


def test_variables_in_database_url_are_expanded() -> None:
    environ = {"POSTGRES_USER": "app", "POSTGRES_HOST": "db"}
    assert (
        dsns.expand("postgresql://${POSTGRES_USER}@${POSTGRES_HOST}:5432/app", environ)
        == "postgresql://app@db:5432/app"
    )
    source = DsnSource("postgresql+asyncpg://${POSTGRES_USER}@db/app", "database.url")
    assert dsns.resolve(source, environ) == "postgresql://app@db/app"


def test_a_missing_variable_is_named() -> None:
    with pytest.raises(DsnError, match=r"\$\{POSTGRES_PASSWORD\}"):
        dsns.expand("postgresql://app:${POSTGRES_PASSWORD}@db/app", {})


@pytest.mark.parametrize(
    "given",
    [
        "postgresql://u@h/d",
        "postgres://u@h/d",
        "postgresql+asyncpg://u@h/d",
        "postgresql+psycopg://u@h/d",
        "postgresql+psycopg2://u@h/d",
        "POSTGRESQL://u@h/d",
    ],
)
def test_sqlalchemy_and_short_forms_become_postgresql(given: str) -> None:
    assert dsns.normalize(given) == "postgresql://u@h/d"


@pytest.mark.parametrize("given", ["mysql://u@h/d", "host=db dbname=app", "postgresql+foo://h"])
def test_other_forms_are_invalid(given: str) -> None:
    with pytest.raises(DsnError):
        dsns.normalize(given)


def test_the_target_of_a_unix_socket_dsn() -> None:
    target = dsns.target_of("postgresql://app:pw@/appdb?host=/cloudsql/p:r:i", {})
    assert (target.host, target.user, target.database) == ("/cloudsql/p:r:i", "app", "appdb")
    assert target.address == "/cloudsql/p:r:i"
    tcp = dsns.target_of("postgresql://app@db.internal:6432/x", {})
    assert tcp.address == "db.internal:6432"


def test_the_password_is_found_for_scrubbing() -> None:
    assert dsns.password_of("postgresql://app:s%40cret@db/app") == "s@cret"
    assert dsns.password_of("postgresql://app@db/app?password=pw") == "pw"
    assert dsns.password_of("postgresql://app@db/app") is None


def test_skip_reason_without_any_source() -> None:
    config = Config.model_validate({"only": "database"})
    from preflight.checks.base import CheckContext  # noqa: PLC0415
    from preflight.clock import Deadline, SystemClock  # noqa: PLC0415

    ctx = CheckContext(config, Deadline.start(SystemClock(), 1000), {})
    assert DatabaseCheck().skip_reason(ctx) == dsns.SKIP_REASON
    ctx = CheckContext(config, Deadline.start(SystemClock(), 1000), {"DATABASE_URL": PG})
    assert DatabaseCheck().skip_reason(ctx) is None


@pytest.mark.asyncio
async def test_nothing_configured_is_a_skip() -> None:
    result, report, _ = await run_database()
    assert result.status is Status.SKIP
    assert report.exit_code == 0


@pytest.mark.asyncio
async def test_a_missing_variable_fails_as_an_invalid_dsn() -> None:
    result, report, _ = await run_database("postgresql://postgres:${PGPASS_X}@127.0.0.1/test")
    assert codes(result) == ["PF705"]
    assert "PGPASS_X" in result.findings[0].message
    assert report.exit_code == 7


def test_importing_the_cli_and_the_check_does_not_import_asyncpg() -> None:
    code = "import sys, preflight.cli, preflight.checks.database;sys.exit('asyncpg' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- classification (no server) ------------------------------------------------------------


class ServerError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "code", "transient"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "PF701", True),
        (OSError("Multiple exceptions: [Errno 111] Connect call failed"), "PF701", True),
        (TimeoutError(), "PF702", True),
        (ServerError("28P01"), "PF703", False),
        (ServerError("28000"), "PF703", False),
        (ServerError("3D000"), "PF704", False),
        (ValueError("invalid DSN"), "PF705", False),
        (ConnectionError('server at "db:5432" rejected SSL upgrade'), "PF706", False),
        (ServerError("57P03"), "PF707", True),
        (ServerError("53300"), "PF708", True),
        (socket.gaierror(socket.EAI_AGAIN, "Temporary failure"), "PF709", True),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "PF709", False),
        (ConnectionResetError(errno.ECONNRESET, "reset"), "PF711", True),
        (ServerError("08006"), "PF711", True),
    ],
)
def test_errors_are_classified(error: Exception, code: str, transient: bool) -> None:
    kind = classify(error)
    assert (kind.code, kind.transient) == (code, transient)


def test_query_errors_are_permanent_unless_the_connection_dropped() -> None:
    def failed(cause: BaseException) -> QueryFailedError:
        error = QueryFailedError("x")
        error.__cause__ = cause
        return error

    assert classify(failed(ServerError("42P01"))).code == "PF710"
    assert not classify(failed(ServerError("42P01"))).transient
    assert classify(failed(ConnectionResetError())).transient


# --- real servers on 127.0.0.1 -------------------------------------------------------------


@needs_postgres
@pytest.mark.asyncio
async def test_passes_over_tcp_with_metrics() -> None:
    result, report, _ = await run_database(PG)
    assert result.status is Status.PASS, result.findings
    assert report.exit_code == 0
    assert result.metrics["attempts"] == 1
    assert str(result.metrics["server_version"])[:1].isdigit()
    assert {"connect_ms", "query_ms"} <= set(result.metrics)


@needs_postgres
@pytest.mark.skipif(not (SOCKET_DIR / ".s.PGSQL.5432").exists(), reason="no unix socket")
@pytest.mark.asyncio
async def test_passes_over_the_unix_socket() -> None:
    result, _, _ = await run_database(f"postgresql://postgres@/test?host={SOCKET_DIR}")
    assert result.status is Status.PASS, result.findings


@needs_postgres
@pytest.mark.asyncio
async def test_a_sqlalchemy_dsn_from_the_environment_passes() -> None:
    environ = {"DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/test"}
    result, _, _ = await run_database(environ=environ)
    assert result.status is Status.PASS, result.findings
    assert result.metrics["source"] == "$DATABASE_URL"


@needs_postgres
@pytest.mark.asyncio
async def test_database_url_is_assembled_from_variables() -> None:
    environ = {"POSTGRES_HOST": "127.0.0.1", "POSTGRES_DB": "test"}
    result, _, _ = await run_database(
        "postgres://postgres@${POSTGRES_HOST}:5432/${POSTGRES_DB}", environ=environ
    )
    assert result.status is Status.PASS, result.findings


@needs_postgres
@pytest.mark.asyncio
async def test_libpq_variables_are_read_by_asyncpg(monkeypatch: pytest.MonkeyPatch) -> None:
    environ = {"PGHOST": "127.0.0.1", "PGPORT": "5432", "PGUSER": "postgres", "PGDATABASE": "test"}
    for name, value in environ.items():
        monkeypatch.setenv(name, value)  # asyncpg reads the process environment
    result, _, _ = await run_database(environ=environ)
    assert result.status is Status.PASS, result.findings


@pytest.mark.asyncio
async def test_a_closed_port_is_refused_after_retries_within_the_budget() -> None:
    port = free_port()
    result, report, elapsed = await run_database(
        f"postgresql://postgres@127.0.0.1:{port}/test", budget="1500ms"
    )
    assert codes(result) == ["PF701"]
    assert int(str(result.metrics["attempts"])) > 1
    assert "budget ran out" in result.findings[0].message
    assert f"127.0.0.1:{port}" in (result.findings[0].hint or "")
    assert report.exit_code == 7
    assert elapsed < 1.5


@contextlib.asynccontextmanager
async def blackhole() -> AsyncIterator[int]:
    """A listener on 127.0.0.1 that accepts and never answers."""
    stop = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await stop.wait()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        stop.set()
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.asyncio
async def test_a_listener_that_never_answers_times_out_within_the_budget() -> None:
    async with blackhole() as port:
        result, report, elapsed = await run_database(
            f"postgresql://postgres@127.0.0.1:{port}/test", budget="1s"
        )
    assert codes(result) in (["PF702"], ["PF700"])
    assert report.exit_code == 7
    assert elapsed < 2.0


@needs_postgres
@pytest.mark.asyncio
async def test_a_missing_database_fails_at_once() -> None:
    result, _, elapsed = await run_database(
        "postgresql://postgres@127.0.0.1:5432/nosuchdb", budget="5s"
    )
    assert codes(result) == ["PF704"]
    assert result.metrics["attempts"] == 1
    assert "'nosuchdb'" in (result.findings[0].hint or "")
    assert elapsed < 1.0


@needs_postgres
@pytest.mark.asyncio
async def test_a_missing_role_is_an_authentication_failure() -> None:
    result, _, elapsed = await run_database("postgresql://nosuchrole@127.0.0.1:5432/test")
    assert codes(result) == ["PF703"]
    assert "'nosuchrole'" in (result.findings[0].hint or "")
    assert "database.url" in (result.findings[0].hint or "")
    assert elapsed < 1.0


@pytest.mark.asyncio
async def test_a_bad_port_is_an_invalid_dsn() -> None:
    result, _, elapsed = await run_database("postgresql://u:hunter2@127.0.0.1:notaport/test")
    assert codes(result) == ["PF705"]
    assert "hunter2" not in result.findings[0].message
    assert elapsed < 1.0


@needs_postgres
@pytest.mark.asyncio
async def test_a_failing_query_is_reported() -> None:
    result, _, _ = await run_database(PG, query="SELECT nosuchcolumn FROM nosuchtable")
    assert codes(result) == ["PF710"]
    assert result.metrics["attempts"] == 1


@needs_postgres
@pytest.mark.asyncio
async def test_max_latency_warns() -> None:
    result, report, _ = await run_database(PG, query="SELECT pg_sleep(0.05)", max_latency="1ms")
    assert codes(result) == ["PF713"]
    assert result.status is Status.WARN
    assert report.exit_code == 0


@needs_postgres
@pytest.mark.asyncio
async def test_the_password_never_appears() -> None:
    url = "postgresql://postgres:hunter2@127.0.0.1:5432/nosuchdb"
    for environ, configured in (({}, url), ({"DATABASE_URL": url}, None)):
        result, report, _ = await run_database(configured, environ=environ)
        assert codes(result) == ["PF704"]
        assert "hunter2" not in json.dumps(report.to_dict())
        assert "postgres:***@127.0.0.1:5432/nosuchdb" in result.findings[0].message
        assert "hunter2" not in result.summary


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def late_forwarder(delay: float) -> AsyncIterator[int]:
    """A proxy to 127.0.0.1:5432 that starts listening on its port only after `delay` s."""
    port = free_port()
    pipes: set[asyncio.Task[None]] = set()

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 5432)
        for task in (_pipe(reader, up_writer), _pipe(up_reader, writer)):
            pipes.add(asyncio.ensure_future(task))

    servers: list[asyncio.Server] = []

    async def start() -> None:
        await asyncio.sleep(delay)
        servers.append(await asyncio.start_server(forward, "127.0.0.1", port))

    starter = asyncio.ensure_future(start())
    try:
        yield port
    finally:
        starter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starter
        for server in servers:
            server.close()
            await server.wait_closed()
        await asyncio.gather(*pipes, return_exceptions=True)


@needs_postgres
@pytest.mark.asyncio
async def test_a_database_that_comes_up_late_passes_after_retries() -> None:
    async with late_forwarder(1.5) as port:
        result, _, elapsed = await run_database(
            f"postgresql://postgres@127.0.0.1:{port}/test", budget="6s"
        )
    assert result.status is Status.PASS, result.findings
    assert int(str(result.metrics["attempts"])) > 1
    assert 1.5 <= elapsed < 6


# --- a real process: the exit is prompt after the budget ---------------------------------

#: The real entry point with only the database check registered (as tests/misbehaving_checks.py).
CHILD = (
    "import sys, preflight.checks;"
    "from preflight.checks.database import DatabaseCheck;"
    "from preflight.__main__ import main;"
    "preflight.checks.REGISTRY = (DatabaseCheck(),);"
    "main(sys.argv[1:])"
)


@pytest.mark.realtime
def test_the_process_exits_promptly_against_a_listener_that_never_answers() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # the kernel accepts; nobody ever answers
        port = listener.getsockname()[1]
        env = child_env(DATABASE_URL=f"postgresql://postgres:hunter2@127.0.0.1:{port}/test")
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", CHILD, "check", "--only", "database", "--budget", "1s"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        elapsed = time.monotonic() - started
    assert done.returncode == 7, done.stderr
    report = json.loads(done.stdout)
    assert [f["code"] for f in report["findings"]] in (["PF702"], ["PF700"])
    assert "hunter2" not in done.stdout + done.stderr
    # budget 1 s + interpreter start and imports; generous for a loaded machine
    assert elapsed < 2.5, f"exit took {elapsed:.2f} s for a 1 s budget"


# --- DNS, through an injected resolver (never a real lookup) ------------------------------

REAL_GETADDRINFO = socket.getaddrinfo


@needs_postgres
@pytest.mark.asyncio
async def test_a_temporary_dns_failure_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def resolver(host: object, port: object, *args: object, **kwargs: object) -> object:
        if host != "db.test":
            return REAL_GETADDRINFO(host, port, *args, **kwargs)  # type: ignore[arg-type]
        calls.append(str(host))
        if len(calls) <= 2:
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return REAL_GETADDRINFO("127.0.0.1", port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    result, _, _ = await run_database("postgresql://postgres@db.test:5432/test")
    assert result.status is Status.PASS, result.findings
    assert result.metrics["attempts"] == 3


@pytest.mark.asyncio
async def test_a_resolver_that_hangs_does_not_hold_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()

    def resolver(host: object, port: object, *args: object, **kwargs: object) -> object:
        if host != "stuck.test":
            return REAL_GETADDRINFO(host, port, *args, **kwargs)  # type: ignore[arg-type]
        release.wait(10)  # an uncancellable executor thread, as a stuck DNS lookup
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    try:
        result, report, elapsed = await run_database(
            "postgresql://postgres@stuck.test:5432/test", budget="1s"
        )
    finally:
        release.set()  # lets the test's loop join its executor
    assert codes(result) in (["PF702"], ["PF700"])
    assert report.exit_code == 7
    assert elapsed < 1.2


# --- migrations: alembic_version against the scripts' head ------------------------------


def write_scripts(folder: Path) -> Path:
    """An alembic folder: a <- b <- c, plus a file that is not a revision."""
    versions = folder / "versions"
    versions.mkdir(parents=True)
    (versions / "001_a.py").write_text('revision = "a"\ndown_revision = None\n')
    (versions / "002_b.py").write_text('revision: str = "b"\ndown_revision = "a"\n')
    (versions / "003_c.py").write_text('"""c."""\nrevision = "c"\ndown_revision = ("b",)\n')
    (versions / "helpers.py").write_text("X = 1\n")
    return folder


def test_the_head_is_read_from_the_scripts(tmp_path: Path) -> None:
    scripts = read_revisions(write_scripts(tmp_path))
    assert scripts.heads == {"c"}
    assert scripts.parents["c"] == ("b",)


def test_a_merge_has_one_head() -> None:
    scripts = Revisions({"a": (), "b": ("a",), "c": ("a",), "m": ("b", "c")})
    assert scripts.heads == {"m"}


@pytest.mark.parametrize(
    ("current", "expected"),
    [(("c",), None), (("b",), "behind"), ((), "no alembic revision"), (("zz",), "unknown")],
)
def test_the_database_revision_is_compared(current: tuple[str, ...], expected: str | None) -> None:
    scripts = Revisions({"a": (), "b": ("a",), "c": ("b",)})
    problem = migration_problem(scripts, current)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None
        assert expected in problem[0]


@contextlib.asynccontextmanager
async def scratch_database(revision: str | None) -> AsyncIterator[str]:
    """A throwaway database on the local server, with `alembic_version` at `revision`."""
    import asyncpg  # type: ignore[import-untyped]  # noqa: PLC0415

    name = f"preflight_mig_{os.getpid()}"
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
        conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}")
        try:
            if revision is not None:
                await conn.execute("CREATE TABLE alembic_version (version_num varchar(32))")
                await conn.execute("INSERT INTO alembic_version VALUES ($1)", revision)
        finally:
            await conn.close()
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@needs_postgres
@pytest.mark.asyncio
@pytest.mark.parametrize(("revision", "passes"), [("c", True), ("b", False), (None, False)])
async def test_migrations_against_a_real_database(
    tmp_path: Path, revision: str | None, passes: bool
) -> None:
    scripts = write_scripts(tmp_path)
    async with scratch_database(revision) as url:
        result, _, _ = await run_database(url, migrations=str(scripts))
    assert codes(result) == ([] if passes else ["PF712"])


@needs_postgres
@pytest.mark.asyncio
async def test_unreadable_scripts_are_reported_after_connecting(tmp_path: Path) -> None:
    result, _, _ = await run_database(PG, migrations=str(tmp_path / "nope"))
    assert codes(result) == ["PF712"]
    assert "versions/" in result.findings[0].message


# --- servers that refuse politely: a reset, and too many connections ----------------------------


@pytest.mark.asyncio
async def test_a_listener_that_resets_every_connection_is_retried_as_a_reset() -> None:
    async def reset(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.close()  # SO_LINGER 0: the close sends RST, not FIN

    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result, _, elapsed = await run_database(
            f"postgresql://app@127.0.0.1:{port}/app", budget="1s"
        )
    assert codes(result) == ["PF711"]
    assert result.metrics["attempts"] > 1  # a reset is transient: retried
    assert elapsed < 2.0


@needs_postgres
@pytest.mark.asyncio
async def test_too_many_connections_is_retried_until_a_slot_frees() -> None:
    """A role limited to one connection, held by someone else, then released after 0.7 s."""
    import asyncpg  # type: ignore[import-untyped]  # noqa: PLC0415 - tests that need the server

    admin = await asyncpg.connect(PG)
    try:
        await admin.execute("DROP ROLE IF EXISTS preflight_one_slot")
        await admin.execute("CREATE ROLE preflight_one_slot LOGIN CONNECTION LIMIT 1")
        holder = await asyncpg.connect("postgresql://preflight_one_slot@127.0.0.1:5432/test")
        url = "postgresql://preflight_one_slot@127.0.0.1:5432/test"

        blocked, _, _ = await run_database(url, budget="600ms")
        assert codes(blocked) == ["PF708"]
        assert blocked.metrics["attempts"] > 1

        async def release_later() -> None:
            await asyncio.sleep(0.7)
            await holder.close()

        releasing = asyncio.ensure_future(release_later())
        passed, _, _ = await run_database(url, budget="5s")
        await releasing
        assert passed.status is Status.PASS
        assert passed.metrics["attempts"] > 1
    finally:
        await admin.execute("DROP ROLE IF EXISTS preflight_one_slot")
        await admin.close()
