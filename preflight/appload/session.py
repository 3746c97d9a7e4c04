"""The parent side of the app-loading child: one child per run, its stages as awaitables.

INTERFACE STUB: the shapes below are the contract between the checks and the child; the
implementation is being written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from preflight.checks.base import CheckContext
    from preflight.config import Config

#: The stages the child reports, in the order it runs them.
STAGES: tuple[str, ...] = ("settings", "import", "app", "middleware", "lifespan")


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """What the child must do in this run (from the selected checks and the configuration)."""

    app: str | None
    """The entry, `module:attr` or `module:factory()`; None: the app is not imported."""
    settings_class: str | None
    """`module:Class`, instantiated in the child first; None: no settings stage."""
    middleware: bool
    """Read the loaded app's middleware stack."""
    django_settings: str | None
    """Django settings module to read `MIDDLEWARE` from (else `DJANGO_SETTINGS_MODULE`)."""
    lifespan: bool
    """Run the ASGI lifespan startup and shutdown on the loaded app."""

    @classmethod
    def for_config(cls, config: Config) -> LoadPlan:
        """The plan for the checks `config` selects."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage's report from the child, or why there is none."""

    name: str
    payload: Mapping[str, Any] | None
    """The child's JSON object for this stage; None when the child never reported it."""
    missing: str | None = None
    """Why there is no payload: `not planned`, `deadline`, `exited`, `crashed`, `skipped`."""


@dataclass(frozen=True, slots=True)
class ChildEnd:
    """How the child ended."""

    returncode: int | None
    killed_at_deadline: bool
    stage: str | None
    """The stage that was running when the child ended (None if it finished all)."""
    output_tail: str
    """The last lines of the child's stdout and stderr (import-time lines removed, masked)."""


class AppSession:
    """The run's one child; each check awaits its own stage."""

    async def stage(self, name: str) -> Stage:
        """The report of stage `name`, as soon as the child sends it (or ends without it)."""
        raise NotImplementedError

    async def end(self) -> ChildEnd:
        """Wait for the child to end (it is killed at the deadline)."""
        raise NotImplementedError


def app_session(ctx: CheckContext) -> AppSession:
    """The run's one child, started on the first call and shared through `ctx.shared`."""
    raise NotImplementedError
