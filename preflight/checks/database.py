"""The database check (exit 7): PostgreSQL reachable and usable within the budget, or why not.

The incident behind preflight was a database that did not answer through a VPC connector:
the app died later, with a generic 503. This check connects with asyncpg, runs
`database.query` and closes, retrying what can heal (refused, timeout, reset, "starting
up", too many connections, a temporary DNS failure) until the budget is nearly spent, and
failing at once on what cannot (authentication, a missing database or role, a bad DSN, TLS,
a failing query). Each failure class has its own PF7xx code and a hint a user can act on.

asyncpg is imported inside `run` (it costs ~60 ms): `import preflight.cli` stays light.
Nothing here awaits without a bound: connect is capped by the attempt timeout, the query by
the budget, close by `CLOSE_S` (then `terminate()`, as `close()` can hang on a dead peer).
Hostname resolution runs in an executor thread asyncpg cannot cancel; the process entry
point exits without joining it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from preflight.checks import dsn as dsns
from preflight.checks.migrations import Revisions, migration_problem, read_revisions
from preflight.checks.network import NetworkFailure, network_failure
from preflight.checks.retry import RESERVE_S, Outcome, retry
from preflight.codes import ExitCode, Severity
from preflight.report import CheckResult, Finding, MetricValue
from preflight.secrets import MASK, mask_dsn

if TYPE_CHECKING:
    from collections.abc import Mapping

    from preflight.checks.base import CheckContext
    from preflight.clock import Deadline

#: Longest a graceful `close()` may take before the connection is terminated.
CLOSE_S = 0.5
#: Slack given to asyncpg's own connect timeout before an outer timeout cuts it off.
OUTER_GRACE_S = 0.02

_AUTH_STATES = {"28P01", "28000"}


class QueryFailedError(Exception):
    """The connection was made but `database.query` failed (its cause is the driver's error)."""


@dataclass(frozen=True, slots=True)
class ErrorClass:
    """What kind of failure an exception is: its code, a short name, and whether to retry."""

    code: str
    what: str
    transient: bool


@dataclass(frozen=True, slots=True)
class Success:
    """A connection that answered the query."""

    server_version: str
    connect_ms: int
    query_ms: int
    revisions: tuple[str, ...] | None = None
    """The database's `alembic_version` rows (empty: no table), when migrations are checked."""


class DatabaseCheck:
    """Connect, query, close: PF700-PF713."""

    name = "database"
    exit_code = ExitCode.DATABASE

    def skip_reason(self, ctx: CheckContext) -> str | None:
        """Nothing to check without a DSN or libpq variables."""
        if dsns.find_source(ctx.config.database, ctx.environ) is None:
            return dsns.SKIP_REASON
        return None

    async def run(self, ctx: CheckContext) -> CheckResult:
        """Connect with retries within the budget, and report what happened."""
        import asyncpg  # type: ignore[import-untyped]  # noqa: PLC0415 - costly, only here

        config = ctx.config.database
        source = dsns.find_source(config, ctx.environ)
        if source is None:
            return CheckResult.skipped(self.name, dsns.SKIP_REASON)
        try:
            dsn = dsns.resolve(source, ctx.environ)
        except dsns.DsnError as error:
            return _invalid_dsn(source, str(error))
        scripts: Revisions | str | None = None
        if config.migrations is not None:
            try:
                scripts = read_revisions(config.migrations)
            except (OSError, ValueError, SyntaxError) as error:
                scripts = f"cannot read the alembic scripts in {config.migrations}: {error}"
        probe = _Probe(asyncpg, dsn, config.query, ctx.deadline, migrations=scripts is not None)
        outcome = await retry(
            probe.attempt,
            deadline=ctx.deadline,
            attempt_timeout=config.connect_timeout / 1000,
            is_transient=lambda error: classify(error).transient,
        )
        report = _Reporter(source, dsn, ctx.environ, config.query)
        if outcome.value is None:
            return report.failure(outcome)
        return report.success(outcome, outcome.value, config.max_latency, scripts)


class _Probe:
    """One connect + query + close attempt, bounded everywhere."""

    def __init__(
        self,
        driver: Any,  # noqa: ANN401 - asyncpg is untyped
        dsn: str | None,
        query: str,
        deadline: Deadline,
        *,
        migrations: bool = False,
    ) -> None:
        self._driver = driver
        self._migrations = migrations
        self._dsn = dsn
        self._query = query
        self._deadline = deadline

    async def attempt(self, limit_s: float) -> Success:
        """Connect within `limit_s`, run the query within the budget, close within `CLOSE_S`."""
        if limit_s <= 0:
            raise TimeoutError
        clock = self._deadline.clock
        started = clock.monotonic()
        async with asyncio.timeout(limit_s + OUTER_GRACE_S):
            conn = await self._driver.connect(self._dsn, timeout=limit_s)
        connected = clock.monotonic()
        revisions = None
        try:
            await self._run_query(conn)
            if self._migrations:
                revisions = await self._fetch_revisions(conn)
        except BaseException:
            conn.terminate()  # immediate, never waits on the peer
            raise
        done = clock.monotonic()
        version = str(conn.get_settings().server_version).split(" ", 1)[0]
        await _close(conn, min(CLOSE_S, max(0.0, self._deadline.remaining() - RESERVE_S / 2)))
        return Success(
            server_version=version,
            connect_ms=round((connected - started) * 1000),
            query_ms=round((done - connected) * 1000),
            revisions=revisions,
        )

    async def _run_query(self, conn: Any) -> None:  # noqa: ANN401 - an asyncpg connection
        timeout = max(0.001, self._deadline.remaining() - RESERVE_S)
        try:
            await conn.execute(self._query, timeout=timeout)
        except Exception as error:
            raise QueryFailedError(str(error)) from error

    async def _fetch_revisions(self, conn: Any) -> tuple[str, ...]:  # noqa: ANN401 - asyncpg
        """The `alembic_version` rows; empty when the table does not exist."""
        timeout = max(0.001, self._deadline.remaining() - RESERVE_S)
        try:
            rows = await conn.fetch("SELECT version_num FROM alembic_version", timeout=timeout)
        except Exception as error:
            if getattr(error, "sqlstate", None) == "42P01":  # undefined_table
                return ()
            raise QueryFailedError(str(error)) from error
        return tuple(sorted(str(row[0]) for row in rows))


async def _close(conn: Any, limit_s: float) -> None:  # noqa: ANN401 - an asyncpg connection
    """Close gracefully within `limit_s`, else terminate (close can hang: asyncpg #1326)."""
    try:
        await asyncio.wait_for(conn.close(), limit_s)
    except asyncio.CancelledError:
        conn.terminate()
        raise
    except Exception:  # noqa: BLE001 - the query answered: a failed close is not a failure
        conn.terminate()


def classify(error: BaseException) -> ErrorClass:  # noqa: PLR0911 - a dispatch on the type
    """The PF7xx class of an attempt's error, and whether retrying may heal it."""
    if isinstance(error, QueryFailedError):
        return _classify_query(error.__cause__)
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str):
        return _classify_sqlstate(sqlstate)
    if isinstance(error, ValueError):  # asyncpg's ClientConfigurationError included
        return ErrorClass("PF705", "the DSN is not valid", transient=False)
    if isinstance(error, OSError) and not isinstance(error, TimeoutError):
        if "SSL" in str(error):  # "rejected SSL upgrade": sslmode=require, server without TLS
            return _network_class(NetworkFailure.TLS)
        if "Connect call failed" in str(error):  # asyncpg's "Multiple exceptions" over addresses
            return _network_class(NetworkFailure.REFUSED)
    failure = network_failure(error)
    if failure is not None:
        return _network_class(failure)
    return ErrorClass("PF711", "the connection failed", transient=False)


_NETWORK_CODES = {
    NetworkFailure.REFUSED: "PF701",
    NetworkFailure.TIMEOUT: "PF702",
    NetworkFailure.UNREACHABLE: "PF702",
    NetworkFailure.RESET: "PF711",
    NetworkFailure.DNS_TEMPORARY: "PF709",
    NetworkFailure.DNS_UNKNOWN: "PF709",
    NetworkFailure.TLS: "PF706",
}


def _network_class(failure: NetworkFailure) -> ErrorClass:
    return ErrorClass(_NETWORK_CODES[failure], failure.value, transient=failure.transient)


def _classify_sqlstate(sqlstate: str) -> ErrorClass:
    if sqlstate in _AUTH_STATES:
        return ErrorClass("PF703", "authentication failed", transient=False)
    if sqlstate == "3D000":
        return ErrorClass("PF704", "the database does not exist", transient=False)
    if sqlstate == "57P03":
        return ErrorClass("PF707", "the database system is starting up", transient=True)
    if sqlstate == "53300":
        return ErrorClass("PF708", "too many connections", transient=True)
    if sqlstate.startswith("08"):
        return ErrorClass("PF711", "the connection was closed", transient=True)
    return ErrorClass("PF710", "the server rejected the connection", transient=False)


def _classify_query(cause: BaseException | None) -> ErrorClass:
    if isinstance(cause, TimeoutError):
        return ErrorClass("PF710", "the query did not answer in time", transient=False)
    sqlstate = getattr(cause, "sqlstate", None)
    if isinstance(cause, ConnectionError) or (
        isinstance(sqlstate, str) and sqlstate.startswith("08")
    ):
        return ErrorClass("PF711", "the connection was closed during the query", transient=True)
    return ErrorClass("PF710", "the check query failed", transient=False)


class _Reporter:
    """Turns an outcome into a result: one-line messages, masked DSNs, actionable hints."""

    def __init__(
        self, source: dsns.DsnSource, dsn: str | None, environ: Mapping[str, str], query: str
    ) -> None:
        self._source = source
        self._password = dsns.password_of(dsn) or environ.get("PGPASSWORD") or None
        self._target = dsns.target_of(dsn, environ)
        self._shown = mask_dsn(dsn) if dsn is not None else self._libpq_description()
        self._query = query

    def _libpq_description(self) -> str:
        t = self._target
        return f"{self._source.origin} (host={t.host} port={t.port} user={t.user})"

    def _scrub(self, text: str) -> str:
        """One line, with the bare password removed (drivers may quote it unencoded)."""
        if self._password:
            text = text.replace(self._password, MASK)
        return " ".join(text.split())

    def success(
        self,
        outcome: Outcome[Success],
        ok: Success,
        max_latency: int | None,
        scripts: Revisions | str | None,
    ) -> CheckResult:
        """A pass, a PF713 warning over `max_latency`, a PF712 error off the migrations' head."""
        latency = ok.connect_ms + ok.query_ms
        findings = self._migrations(scripts, ok.revisions)
        if max_latency is not None and latency > max_latency:
            findings.append(
                Finding(
                    code="PF713",
                    check="database",
                    severity=Severity.WARNING,
                    message=f"connect + query took {latency} ms at {self._shown},"
                    f" over max_latency {max_latency} ms",
                    hint="a slow network path or a cold instance: check the connector and region",
                )
            )
        summary = self._scrub(
            f"PostgreSQL {ok.server_version} at {self._shown} answered in {latency} ms"
            f" ({outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''})"
        )
        metrics: dict[str, MetricValue] = {
            "server_version": ok.server_version,
            "attempts": outcome.attempts,
            "connect_ms": ok.connect_ms,
            "query_ms": ok.query_ms,
            "source": self._source.origin,
        }
        return CheckResult.from_findings("database", findings, summary, metrics)

    @staticmethod
    def _migrations(
        scripts: Revisions | str | None, current: tuple[str, ...] | None
    ) -> list[Finding]:
        if scripts is None:
            return []
        if isinstance(scripts, str):
            problem: tuple[str, str] | None = (
                scripts,
                "fix database.migrations: an alembic folder",
            )
        else:
            problem = migration_problem(scripts, current or ())
        if problem is None:
            return []
        message, hint = problem
        return [Finding("PF712", "database", Severity.ERROR, message, hint=hint)]

    def failure(self, outcome: Outcome[Success]) -> CheckResult:
        """One error finding for the last attempt's error."""
        error = outcome.error or RuntimeError("no attempt was made")
        kind = classify(error)
        elapsed_ms = round(outcome.elapsed_s * 1000)
        tries = f"{outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''}"
        when = (
            f"still failing when the budget ran out, after {tries} in {elapsed_ms} ms"
            if outcome.gave_up
            else f"after {tries} in {elapsed_ms} ms"
        )
        detail = self._scrub(f"{type(error).__name__}: {error}".rstrip(": "))
        finding = Finding(
            code=kind.code,
            check="database",
            severity=Severity.ERROR,
            message=self._scrub(f"{kind.what}: {self._shown}, {when} ({detail})"),
            hint=self._scrub(self._hint(kind.code)),
        )
        metrics: dict[str, MetricValue] = {"attempts": outcome.attempts, "elapsed_ms": elapsed_ms}
        summary = self._scrub(f"{kind.what} at {self._shown}")
        return CheckResult.from_findings("database", [finding], summary, metrics)

    def _hint(self, code: str) -> str:
        t, origin = self._target, self._source.origin
        hints = {
            "PF701": f"nothing listens on {t.address}: is the database (or the Cloud SQL proxy,"
            f" the VPC connector) up, and are host and port in {origin} right?",
            "PF702": f"no answer from {t.address}: check the network path (firewall rules,"
            " security groups, the VPC connector) and the host in " + origin,
            "PF703": f"check the user {t.user!r} and its password in {origin}",
            "PF704": f"database {t.database!r} does not exist on {t.address}: create it or fix"
            f" the name in {origin}",
            "PF705": f"fix the DSN in {origin}: postgresql://USER@HOST:5432/DBNAME"
            " (or ?host=/cloudsql/PROJECT:REGION:INSTANCE for a unix socket)",
            "PF706": f"check sslmode in {origin} and the server's certificate and TLS settings",
            "PF707": "the server is still starting up: raise --budget or start the app later",
            "PF708": "max_connections is reached: lower the pool sizes of the other clients,"
            " or put a pooler (PgBouncer) in front",
            "PF709": f"{t.host!r} does not resolve: check the host name in {origin} and the"
            " container's DNS",
            "PF710": f"the server rejected the query {self._query!r}: fix database.query or"
            f" the grants of {t.user!r}",
            "PF711": f"the server or a proxy closed the connection to {t.address}: check the"
            " server's and the proxy's logs",
        }
        return hints[code]


def _invalid_dsn(source: dsns.DsnSource, problem: str) -> CheckResult:
    finding = Finding(
        code="PF705",
        check="database",
        severity=Severity.ERROR,
        message=f"the DSN in {source.origin} is not valid: {problem}",
        hint=f"fix {source.origin}: postgresql://USER@HOST:5432/DBNAME"
        " (or ?host=/cloudsql/PROJECT:REGION:INSTANCE for a unix socket)",
    )
    return CheckResult.from_findings("database", [finding], f"invalid DSN in {source.origin}")
