"""Where the database check's DSN comes from, and the one form asyncpg is given.

Backends configure PostgreSQL in several ways: a literal DSN, a DSN assembled from pieces
(`postgresql://${POSTGRES_USER}:${POSTGRES_PASSWORD}@${POSTGRES_HOST}/app`), a
`DATABASE_URL` variable written for SQLAlchemy (`postgresql+asyncpg://...`), or only the
libpq variables (PGHOST, PGUSER, ...). This module turns all of them into what asyncpg takes,
without connecting, so the rules are tested without a server. Pure functions only.

Source order (first that is set wins):

1. `database.url`, with `${VAR}` replaced from the environment (a missing variable is an
   invalid DSN naming the variable);
2. the variable named by `database.url_env` (default `DATABASE_URL`);
3. the libpq variables (`PGHOST`, `PGHOSTADDR`, `PGDATABASE`, `PGUSER`, `PGPORT`,
   `PGSERVICE`): asyncpg is then given no DSN and reads them itself, from the *process*
   environment (`os.environ`), not from the injected one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    from collections.abc import Mapping

    from preflight.config import DatabaseConfig

#: The variables that, without any DSN, mean "libpq-style configuration".
LIBPQ_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGDATABASE", "PGUSER", "PGPORT", "PGSERVICE")
#: The scheme asyncpg accepts.
SCHEME = "postgresql"
_SCHEMES = {"postgresql", "postgres"}
_DRIVERS = {"", "asyncpg", "psycopg", "psycopg2", "psycopg2cffi", "pg8000"}
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}")

SKIP_REASON = "no database configured (database.url, $DATABASE_URL or PGHOST)"


class DsnError(ValueError):
    """The configured DSN cannot be used (a missing variable, a foreign scheme)."""


@dataclass(frozen=True, slots=True)
class DsnSource:
    """A DSN and where it was found (for hints: "which variable holds the DSN")."""

    dsn: str | None
    """The DSN as configured (not normalized); None means "libpq variables"."""
    origin: str
    """Where it came from: `database.url`, `$DATABASE_URL`, `the PG* variables`."""


@dataclass(frozen=True, slots=True)
class Target:
    """What a DSN points at, for messages and hints (never the password)."""

    host: str
    port: str
    user: str
    database: str

    @property
    def address(self) -> str:
        """`host:port`, or the socket directory for a unix socket."""
        return self.host if self.host.startswith("/") else f"{self.host}:{self.port}"


def find_source(config: DatabaseConfig, environ: Mapping[str, str]) -> DsnSource | None:
    """The configured DSN source in the documented order, or None when there is none."""
    if config.url:
        return DsnSource(config.url, "database.url")
    from_env = environ.get(config.url_env, "").strip()
    if from_env:
        return DsnSource(from_env, f"${config.url_env}")
    if any(environ.get(name) for name in LIBPQ_VARIABLES):
        return DsnSource(None, "the PG* environment variables")
    return None


def expand(template: str, environ: Mapping[str, str]) -> str:
    """Replace every `${VAR}` from `environ`; a variable that is not set raises `DsnError`."""
    missing = [m["name"] for m in _VARIABLE.finditer(template) if m["name"] not in environ]
    if missing:
        names = ", ".join(f"${{{name}}}" for name in dict.fromkeys(missing))
        raise DsnError(f"database.url uses {names}, which is not set in the environment")
    return _VARIABLE.sub(lambda m: environ[m["name"]], template)


def normalize(dsn: str) -> str:
    """The DSN with the scheme asyncpg accepts.

    SQLAlchemy (`postgresql+asyncpg://`, `+psycopg`, `+psycopg2`) and `postgres://` forms
    become `postgresql://`; anything that is not PostgreSQL raises `DsnError`.
    """
    dsn = dsn.strip()
    scheme, sep, rest = dsn.partition("://")
    if not sep:
        raise DsnError("expected a URL such as postgresql://user:password@host:5432/dbname")
    dialect, _, driver = scheme.lower().partition("+")
    if dialect not in _SCHEMES or driver not in _DRIVERS:
        raise DsnError(f"{scheme}:// is not a PostgreSQL DSN scheme")
    dsn = f"{SCHEME}://{rest}"
    _check_authority(dsn)
    return dsn


def _check_authority(dsn: str) -> None:
    """Refuse a DSN whose host:port an unencoded password character cut short.

    An unencoded '/', '?' or '#' in the password ends the URL's authority early:
    `postgresql://app:pa/ss@db/app` reads as host `app`, port `pa`, and asyncpg then quotes
    that "port" (the password's start) in its error. Neither is repeated here.
    """
    try:
        parts = urlsplit(dsn)
    except ValueError:  # an unbalanced '[': asyncpg says so, without quoting a password
        return
    cut = "@" not in parts.netloc and "@" in parts.path
    try:
        _ = parts.port
    except ValueError:
        cut = cut or "," not in parts.netloc  # `h1:5432,h2:5433` is asyncpg's multi-host form
    if cut:
        raise DsnError(
            "the host:port part is not valid; a password holding '/', '?' or '#' must be"
            " percent-encoded (urllib.parse.quote(password, safe=''))"
        )


def resolve(source: DsnSource, environ: Mapping[str, str]) -> str | None:
    """The DSN to give asyncpg: expanded (for `database.url`) and normalized."""
    if source.dsn is None:
        return None
    dsn = expand(source.dsn, environ) if source.origin == "database.url" else source.dsn
    return normalize(dsn)


def target_of(dsn: str | None, environ: Mapping[str, str]) -> Target:
    """Host, port, user and database a DSN (or the PG* variables) point at.

    libpq's defaults fill the gaps; `?host=/dir` (a unix socket, as Cloud SQL's
    `/cloudsql/...`) wins over the authority's host, as in libpq.
    """
    host = environ.get("PGHOST", "") or environ.get("PGHOSTADDR", "")
    port = environ.get("PGPORT", "")
    user = environ.get("PGUSER", "")
    database = environ.get("PGDATABASE", "")
    if dsn is not None:
        try:
            parts = urlsplit(dsn)
            query = parse_qs(parts.query)
            host = query.get("host", [parts.hostname or host])[0]
            port = query.get("port", [str(parts.port) if parts.port else port])[0]
            user = query.get("user", [unquote(parts.username or "") or user])[0]
            database = query.get("dbname", [unquote(parts.path.lstrip("/")) or database])[0]
        except ValueError:  # a bad port: the connect attempt reports the DSN as invalid
            pass
    host = host or "localhost"
    user = user or environ.get("USER", "") or "postgres"
    return Target(host=host, port=port or "5432", user=user, database=database or user)


def password_of(dsn: str | None) -> str | None:
    """The DSN's password, so it can be scrubbed from driver messages that quote it bare."""
    if not dsn:
        return None
    try:
        parts = urlsplit(dsn)
        password = unquote(parts.password) if parts.password else None
    except ValueError:
        return None
    if password is None:
        password = parse_qs(parts.query).get("password", [None])[0]
    return password or None
