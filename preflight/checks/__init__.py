"""The registry: every check preflight runs, as an explicit, ordered tuple.

Adding a check is one new module here and one line in `REGISTRY`. The order is boot order
(imports before app before settings ...); the runner starts them all at once regardless.
Checks that SPEC names but that are not built yet are absent; the runner reports them as
`skip` with that reason, so `--only database` is valid today and honest about it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from preflight.checks.app import AppCheck
from preflight.checks.bind import BindCheck
from preflight.checks.database import DatabaseCheck
from preflight.checks.distributions import DistributionsCheck
from preflight.checks.imports import ImportsCheck
from preflight.checks.lifespan import LifespanCheck
from preflight.checks.middleware import MiddlewareCheck
from preflight.checks.services import ServicesCheck
from preflight.checks.settings import SettingsCheck

if TYPE_CHECKING:
    from preflight.checks.base import Check

REGISTRY: tuple[Check, ...] = (
    ImportsCheck(),
    AppCheck(),
    SettingsCheck(),
    MiddlewareCheck(),
    LifespanCheck(),
    BindCheck(),
    DatabaseCheck(),
    ServicesCheck(),
    DistributionsCheck(),
)

__all__ = ["REGISTRY"]
