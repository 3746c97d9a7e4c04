"""The services check (exit 8): every declared dependency answers within the budget.

All `[[tool.preflight.services]]` entries are probed concurrently from t = 0, so the slowest
one, not their sum, sets the wall time. A dependency that is still starting (refused, timeout,
reset, temporary DNS failure, 5xx) is retried until the deadline with the policy of
`preflight.checks.retry`, shared with the database check; one that retrying cannot heal (TLS
verification, an unexpected 4xx, a wrong body, NXDOMAIN, a Redis auth error) fails at once, so
the budget is never waited out for nothing.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from preflight.checks.probes import ProbeError, parse_target, probe
from preflight.checks.retry import retry
from preflight.codes import ExitCode, Severity
from preflight.report import CheckResult, Finding, MetricValue
from preflight.secrets import mask_secrets

if TYPE_CHECKING:
    from preflight.checks.base import CheckContext
    from preflight.config import ServiceConfig

HINTS = {
    "PF801": "is the service up, and are the host and port right?",
    "PF802": "check the network path: firewall, security group, VPC connector, proxy;"
    " or raise the entry's timeout / --budget",
    "PF803": "check the service's health endpoint, or set expect_status for this entry",
    "PF804": "check the URL path, or the entry's expect_body",
    "PF805": "check the host name: a typo, or a name this network's DNS does not know?",
    "PF806": "check the Redis password in the URL against the server's requirepass/ACL",
    "PF807": "check the certificate (CA bundle, host name), or use http:// for a plain service",
    "PF808": "the peer closed the connection: the wrong protocol for that port,"
    " a proxy or load balancer, or the service restarting",
}


@dataclass(frozen=True, slots=True)
class ServiceOutcome:
    """What probing one service came to: attempts, elapsed time, and the last error if failed."""

    service: ServiceConfig
    attempts: int
    elapsed_ms: int
    error: ProbeError | None = None


class ServicesCheck:
    """Declared TCP/HTTP/Redis dependencies reachable within the budget: PF800-PF808."""

    name = "services"
    exit_code = ExitCode.SERVICES

    def __init__(self, rng: random.Random | None = None) -> None:
        """`rng` draws the backoff jitter (inject a seeded one for reproducible tests)."""
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography

    def skip_reason(self, ctx: CheckContext) -> str | None:
        """Nothing to probe without entries."""
        if ctx.config.services:
            return None
        return "no services configured ([[tool.preflight.services]])"

    async def run(self, ctx: CheckContext) -> CheckResult:
        """Probe every entry concurrently and report one finding per failing service."""
        outcomes = await asyncio.gather(
            *(probe_with_retries(service, ctx, self._rng) for service in ctx.config.services)
        )
        findings = [finding_of(o) for o in outcomes if o.error is not None]
        metrics: dict[str, MetricValue] = {
            o.service.name: {
                "attempts": o.attempts,
                "status": "fail" if o.error else "pass",
                "time_ms": o.elapsed_ms,
            }
            for o in outcomes
        }
        return CheckResult.from_findings(self.name, findings, summary_of(outcomes), metrics)


async def probe_with_retries(
    service: ServiceConfig, ctx: CheckContext, rng: random.Random
) -> ServiceOutcome:
    """Attempt until a pass, a permanent failure, or too little budget for another attempt."""
    result = await retry(
        lambda timeout: attempt(service, timeout),
        deadline=ctx.deadline,
        attempt_timeout=service.timeout / 1000,
        is_transient=lambda error: isinstance(error, ProbeError) and error.transient,
        rand=rng.random,
    )
    error = result.error
    if error is not None and not isinstance(error, ProbeError):  # a bug in a probe: say so
        error = ProbeError("PF808", f"unexpected {type(error).__name__}: {error}", transient=False)
    return ServiceOutcome(service, result.attempts, round(result.elapsed_s * 1000), error)


async def attempt(service: ServiceConfig, timeout: float) -> None:  # noqa: ASYNC109 - the retry loop's per-attempt budget
    """One probe within `timeout` (the entry's, capped by the budget); raises ProbeError."""
    try:
        async with asyncio.timeout(timeout):
            await probe(service, timeout)
    except TimeoutError:
        by_budget = timeout < service.timeout / 1000
        why = (
            "before the budget ran out" if by_budget else f"within the {service.timeout} ms timeout"
        )
        raise ProbeError("PF802", f"no answer {why}", transient=True) from None


def finding_of(outcome: ServiceOutcome) -> Finding:
    """One error finding naming the service, its masked URL, the error, attempts and time."""
    error = outcome.error
    if error is None:
        msg = "finding_of needs a failed outcome"
        raise ValueError(msg)
    service = outcome.service
    tries = f"{outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''}"
    message = (
        f"service {service.name!r} ({mask_secrets(service.url)}): {error.detail}"
        f" [{tries} in {outcome.elapsed_ms} ms]"
    )
    return Finding(
        code=error.code,
        check="services",
        severity=Severity.ERROR,
        message=message,
        name=service.name,
        hint=hint_of(error.code, service),
    )


def hint_of(code: str, service: ServiceConfig) -> str:
    """The code's hint, naming the host where that helps (DNS, refused)."""
    hint = HINTS[code]
    if code in {"PF801", "PF805"}:
        try:
            target = parse_target(service.url)
        except ProbeError:
            return hint
        return f"{hint} (host {target.host!r}, port {target.port})"
    return hint


def summary_of(outcomes: list[ServiceOutcome]) -> str:
    """`3 services reachable` or `1 of 3 services unreachable: auth`."""
    failed = [o.service.name for o in outcomes if o.error is not None]
    total = len(outcomes)
    noun = "service" if total == 1 else "services"
    if not failed:
        return f"{total} {noun} reachable"
    return f"{len(failed)} of {total} {noun} unreachable: {', '.join(failed)}"
