"""The one catalogue of exit codes, check names and finding codes.

Everything user-facing about codes is generated from here: `preflight codes`, the README
table (a test compares them) and the exit-code rules in `report`. A finding code reads
`PF<exit code><two digits>`: the digits before the last two are the exit code it causes as
an error. Retired codes stay listed and are never reused (Django's rule for check IDs).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ExitCode(enum.IntEnum):
    """Process exit codes; each names the start-up stage that failed."""

    OK = 0
    USAGE = 2
    IMPORTS = 3
    APP = 4
    SETTINGS = 5
    MIDDLEWARE = 6
    DATABASE = 7
    SERVICES = 8
    DISTRIBUTIONS = 9
    INTERNAL = 70
    SIGINT = 130
    SIGTERM = 143


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "every selected check passed (warnings allowed unless --strict)",
    ExitCode.USAGE: "usage or configuration error of preflight itself",
    ExitCode.IMPORTS: "imports: the import graph from the entry is broken",
    ExitCode.APP: "app: the entry object cannot be loaded",
    ExitCode.SETTINGS: "settings: the app's settings do not validate",
    ExitCode.MIDDLEWARE: "middleware: required middleware missing, order or duplicates wrong",
    ExitCode.DATABASE: "database: not reachable, not usable, or not within budget",
    ExitCode.SERVICES: "services: a declared dependency is not reachable within budget",
    ExitCode.DISTRIBUTIONS: "distributions: installed distributions do not satisfy requirements",
    ExitCode.INTERNAL: "internal error in preflight itself (a bug)",
    ExitCode.SIGINT: "interrupted by SIGINT",
    ExitCode.SIGTERM: "interrupted by SIGTERM",
}


class Severity(enum.Enum):
    """How bad a finding is, on the logging scale (its value is the report's spelling)."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def log_level(self) -> str:
        """The Cloud Logging severity name for this level."""
        return self.name


#: Every check preflight knows, in boot order, with the exit code a failure of it causes.
CHECK_EXIT_CODES: dict[str, ExitCode] = {
    "imports": ExitCode.IMPORTS,
    "app": ExitCode.APP,
    "settings": ExitCode.SETTINGS,
    "middleware": ExitCode.MIDDLEWARE,
    "lifespan": ExitCode.APP,
    "bind": ExitCode.APP,
    "database": ExitCode.DATABASE,
    "services": ExitCode.SERVICES,
    "distributions": ExitCode.DISTRIBUTIONS,
}
CHECK_NAMES: tuple[str, ...] = tuple(CHECK_EXIT_CODES)
#: Checks that run only when named in `--only` (lifespan runs the app's startup code).
OPT_IN_CHECKS: frozenset[str] = frozenset({"lifespan"})
#: Checks that share another check's stage and so its timeout code (PF400 is the app's).
_SHARED_STAGE_CHECKS: frozenset[str] = frozenset({"lifespan", "bind"})


@dataclass(frozen=True, slots=True)
class FindingCode:
    """One entry of the finding-code catalogue."""

    code: str
    """`PF` followed by the exit code and two digits, e.g. `PF302`."""
    severity: Severity
    """The severity a finding of this code usually has (some codes vary by context)."""
    check: str
    """The check that reports it."""
    meaning: str
    """One line, under 80 characters: what the finding says."""

    @property
    def exit_code(self) -> int:
        """The exit code this finding causes when it is an error."""
        return exit_code_of(self.code)


def exit_code_of(code: str) -> int:
    """Return the exit code encoded in a finding code (`PF302` -> 3, `PF7001` -> 70)."""
    return int(code[2:-2])


def _timeout_code(check: str) -> FindingCode:
    exit_code = CHECK_EXIT_CODES[check]
    return FindingCode(
        f"PF{int(exit_code)}00",
        Severity.ERROR,
        check,
        f"the {check} check did not finish within the budget",
    )


_TIMEOUT_CODES = {
    check: _timeout_code(check) for check in CHECK_NAMES if check not in _SHARED_STAGE_CHECKS
}

CATALOGUE: tuple[FindingCode, ...] = (
    _TIMEOUT_CODES["imports"],
    FindingCode("PF301", Severity.ERROR, "imports", "a module imported at boot does not exist"),
    FindingCode("PF302", Severity.ERROR, "imports", "`from X import name`: X defines no `name`"),
    FindingCode(
        "PF303", Severity.ERROR, "imports", "a reachable first-party module does not parse"
    ),
    FindingCode("PF304", Severity.ERROR, "imports", "the module's distribution is not installed"),
    FindingCode(
        "PF305", Severity.INFO, "imports", "a module-level import cycle among first-party modules"
    ),
    FindingCode(
        "PF306", Severity.ERROR, "imports", "a relative import goes beyond the top-level package"
    ),
    FindingCode(
        "PF307", Severity.ERROR, "imports", "the entry module is not found under the roots"
    ),
    FindingCode(
        "PF308", Severity.ERROR, "imports", "`__all__` lists a name the module does not bind"
    ),
    FindingCode("PF309", Severity.ERROR, "imports", "imports nest past the recursion limit"),
    FindingCode(
        "PF310", Severity.ERROR, "app", "the real import of the entry raised an ImportError"
    ),
    _TIMEOUT_CODES["app"],
    FindingCode("PF401", Severity.ERROR, "app", "the entry module raised an exception on import"),
    FindingCode("PF402", Severity.ERROR, "app", "the app attribute is missing from the module"),
    FindingCode("PF403", Severity.ERROR, "app", "the object is neither an ASGI nor a WSGI app"),
    FindingCode(
        "PF404", Severity.ERROR, "app", "the app import did not finish before the deadline"
    ),
    FindingCode("PF405", Severity.ERROR, "app", "the process exited while the app was loading"),
    FindingCode("PF406", Severity.ERROR, "app", "the app factory raised an exception"),
    FindingCode("PF407", Severity.ERROR, "app", "the app-loading child interpreter died"),
    FindingCode("PF408", Severity.INFO, "app", "import-time profile: total and slowest modules"),
    FindingCode("PF410", Severity.ERROR, "lifespan", "the ASGI lifespan startup failed"),
    FindingCode("PF411", Severity.ERROR, "lifespan", "the ASGI lifespan shutdown failed"),
    FindingCode("PF412", Severity.ERROR, "lifespan", "lifespan startup did not finish in time"),
    FindingCode(
        "PF413", Severity.INFO, "lifespan", "the app does not support the lifespan protocol"
    ),
    FindingCode("PF421", Severity.WARNING, "bind", "the server binds to a loopback address"),
    FindingCode("PF422", Severity.WARNING, "bind", "the server's port is not $PORT"),
    _TIMEOUT_CODES["settings"],
    FindingCode("PF501", Severity.ERROR, "settings", "a required setting is missing"),
    FindingCode("PF502", Severity.ERROR, "settings", "a setting's value does not validate"),
    FindingCode("PF503", Severity.ERROR, "settings", "the settings class cannot be loaded"),
    FindingCode("PF504", Severity.INFO, "settings", "settings classes reachable from the entry"),
    _TIMEOUT_CODES["middleware"],
    FindingCode("PF601", Severity.ERROR, "middleware", "a required middleware is missing"),
    FindingCode("PF602", Severity.ERROR, "middleware", "the middleware order breaks the policy"),
    FindingCode("PF603", Severity.ERROR, "middleware", "the same middleware is registered twice"),
    FindingCode(
        "PF604", Severity.WARNING, "middleware", "CORSMiddleware is not the outermost middleware"
    ),
    FindingCode(
        "PF605", Severity.WARNING, "middleware", "a middleware reads the session outside Session"
    ),
    FindingCode(
        "PF606", Severity.WARNING, "middleware", "Django MIDDLEWARE breaks a documented ordering"
    ),
    FindingCode(
        "PF607", Severity.ERROR, "middleware", "a policy is set but the stack cannot be read"
    ),
    _TIMEOUT_CODES["database"],
    FindingCode("PF701", Severity.ERROR, "database", "connection refused: nothing listens there"),
    FindingCode("PF702", Severity.ERROR, "database", "no answer within the connect timeout"),
    FindingCode("PF703", Severity.ERROR, "database", "authentication failed (user or password)"),
    FindingCode("PF704", Severity.ERROR, "database", "the database does not exist"),
    FindingCode("PF705", Severity.ERROR, "database", "the DSN is not valid"),
    FindingCode("PF706", Severity.ERROR, "database", "TLS/SSL negotiation or verification failed"),
    FindingCode("PF707", Severity.ERROR, "database", "the database system is still starting up"),
    FindingCode("PF708", Severity.ERROR, "database", "too many connections"),
    FindingCode("PF709", Severity.ERROR, "database", "the host name does not resolve"),
    FindingCode("PF710", Severity.ERROR, "database", "the check query failed"),
    FindingCode("PF711", Severity.ERROR, "database", "the connection was reset or closed"),
    FindingCode("PF712", Severity.ERROR, "database", "migrations: the schema is not at head"),
    FindingCode("PF713", Severity.WARNING, "database", "connect + query slower than max_latency"),
    _TIMEOUT_CODES["services"],
    FindingCode("PF801", Severity.ERROR, "services", "connection refused: nothing listens there"),
    FindingCode("PF802", Severity.ERROR, "services", "no answer within the timeout"),
    FindingCode("PF803", Severity.ERROR, "services", "HTTP status not in the expected ones"),
    FindingCode("PF804", Severity.ERROR, "services", "HTTP body lacks the expected text"),
    FindingCode("PF805", Severity.ERROR, "services", "the host name does not resolve"),
    FindingCode("PF806", Severity.ERROR, "services", "Redis did not answer PING with PONG"),
    FindingCode("PF807", Severity.ERROR, "services", "TLS negotiation or verification failed"),
    FindingCode("PF808", Severity.ERROR, "services", "the connection was reset or closed"),
    _TIMEOUT_CODES["distributions"],
    FindingCode(
        "PF901", Severity.ERROR, "distributions", "a declared requirement is not installed"
    ),
    FindingCode(
        "PF902", Severity.ERROR, "distributions", "installed at a version outside the specifier"
    ),
    FindingCode(
        "PF903", Severity.WARNING, "distributions", "an installed distribution's requirement broken"
    ),
    FindingCode("PF904", Severity.ERROR, "distributions", "a requirements file cannot be read"),
    FindingCode(
        "PF905", Severity.WARNING, "distributions", "the distribution lacks a requested extra"
    ),
    FindingCode("PF7001", Severity.ERROR, "*", "a check crashed: an internal error in preflight"),
)

_BY_CODE: dict[str, FindingCode] = {entry.code: entry for entry in CATALOGUE}


def lookup(code: str) -> FindingCode:
    """Return the catalogue entry of `code`; an unknown code is a programming error."""
    try:
        return _BY_CODE[code]
    except KeyError:
        msg = f"finding code {code!r} is not in the catalogue (preflight.codes)"
        raise ValueError(msg) from None


def timeout_code(check: str) -> str:
    """Return the code reported when `check` is cut off by the budget."""
    return f"PF{int(CHECK_EXIT_CODES[check])}00"


INTERNAL_ERROR_CODE = "PF7001"
