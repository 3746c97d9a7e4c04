"""Sample findings and a check double shared by the tests (one place, not one per file)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from preflight.codes import CHECK_EXIT_CODES, ExitCode, Severity
from preflight.report import Finding

if TYPE_CHECKING:
    from preflight.checks.base import CheckContext

#: The incident's second crash, as the imports check will report it.
BROKEN_IMPORT = Finding(
    "PF302",
    "imports",
    Severity.ERROR,
    "cannot import name 'websocket_auth_middleware' from 'service.middleware.websocket'",
    module="service.middleware.websocket",
    name="websocket_auth_middleware",
    file="service/app_factory.py",
    line=23,
    chain=("service.main", "service.app_factory"),
    hint="did you mean 'WebSocketAuthMiddleware'?",
)

#: A function-level import of a missing module: a warning unless `--strict`.
LAZY_IMPORT = Finding(
    "PF301",
    "imports",
    Severity.WARNING,
    "No module named 'auth_service'",
    file="service/routes.py",
    line=7,
    chain=("service.main",),
    hint="install it or remove the import",
)


@dataclass
class CheckDouble:
    """The parts of the Check protocol a test double rarely varies: subclass and add `run`."""

    name: str

    @property
    def exit_code(self) -> ExitCode:
        return CHECK_EXIT_CODES[self.name]

    def skip_reason(self, ctx: CheckContext) -> str | None:
        return None
