"""The bind check: the server `run` will exec listens where the platform connects.

Cloud Run (and any Kubernetes Service or probe) connects to the container on `$PORT` from
outside it. A server bound to 127.0.0.1 or to another port boots cleanly, passes every local
test, and is then killed by the startup probe minutes later. The command is read, not run
(`preflight.serverargs`), so the check costs microseconds. Its findings are warnings (a
deliberate loopback bind behind a sidecar proxy is legitimate); `--strict` makes them fail
with exit 4, gunicorn's code for an app that cannot be served.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from preflight.codes import ExitCode, Severity
from preflight.report import CheckResult, Finding, MetricValue
from preflight.serverargs import (
    SERVERS,
    Bind,
    ServerBind,
    identify_server,
    read_server_bind,
    variable_reference,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from preflight.checks.base import CheckContext


class BindCheck:
    """The server command binds all interfaces on `$PORT`: PF421 (loopback), PF422 (port)."""

    name = "bind"
    exit_code = ExitCode.APP

    def skip_reason(self, ctx: CheckContext) -> str | None:
        """Only `run` has a server command; only known servers can be read."""
        if not ctx.command:
            return "no server command: only `preflight run -- CMD` has one to read"
        if identify_server(ctx.command, ctx.environ) is None:
            program, known = Path(ctx.command[0]).name, ", ".join(SERVERS)
            return f"CMD ({program!r}) runs none of the servers whose bind is read: {known}"
        return None

    async def run(self, ctx: CheckContext) -> CheckResult:
        """Read the command's binds and compare them with the platform's contract."""
        server = read_server_bind(ctx.command, ctx.environ, Path.cwd())
        if server is None:  # skip_reason said it is a server; a wrapper changed its mind
            return CheckResult.from_findings(self.name, [], "not a server command")
        metrics: dict[str, MetricValue] = {
            "server": server.server,
            "binds": [bind.address for bind in server.binds],
        }
        if server.unknown is not None:
            summary = f"{server.server}'s bind cannot be read before it starts: {server.unknown}"
            return CheckResult.from_findings(self.name, [], summary, metrics)
        findings = findings_of(server, ctx.environ)
        return CheckResult.from_findings(self.name, findings, summary_of(server), metrics)


def platform_port(environ: Mapping[str, str]) -> int | str | None:
    """`$PORT` as a number; the string `"invalid"` when set but not a port; None when unset."""
    text = environ.get("PORT")
    if text is None:
        return None
    text = text.strip()
    if text.isdigit() and 0 < int(text) <= 65535:  # noqa: PLR2004 - the largest TCP port
        return int(text)
    return "invalid"


def findings_of(server: ServerBind, environ: Mapping[str, str]) -> list[Finding]:
    """PF421/PF422 for the TCP binds, unless one of them already serves the platform.

    A server that also listens on all interfaces at `$PORT` (gunicorn `-b 0.0.0.0:$PORT
    -b 127.0.0.1:9000` for a metrics scraper) meets the contract. Unix sockets and inherited
    descriptors are a proxy's or a socket manager's business: nothing to say about them.
    """
    port = platform_port(environ)
    tcp = [bind for bind in server.binds if bind.is_tcp]
    if any(not bind.is_loopback and _port_ok(bind, port) for bind in tcp):
        return []
    findings: list[Finding] = []
    for bind in tcp:
        if bind.is_loopback:
            findings.append(_loopback(server.server, bind))
        if not _port_ok(bind, port):
            findings.append(_wrong_port(server, bind, port))
    return findings


def _port_ok(bind: Bind, port: int | str | None) -> bool:
    """A port number, and `$PORT` when that is set (a port that is not a number never is)."""
    return bind.port is not None and (port is None or bind.port == port)


def _loopback(server: str, bind: Bind) -> Finding:
    return Finding(
        code="PF421",
        check="bind",
        severity=Severity.WARNING,
        message=f"{server} will listen on {bind.address}, a loopback address"
        f" (host from {bind.host_source}): nothing outside the container can connect",
        name=bind.address,
        file=bind.file,
        line=bind.line,
        hint=f"listen on all interfaces: {_fix(server)}; Cloud Run and Kubernetes probes"
        " connect from outside the container",
    )


def _wrong_port(server_bind: ServerBind, bind: Bind, port: int | str | None) -> Finding:
    server = server_bind.server
    reference = variable_reference(bind.address) if bind.port is None else None
    hint = f"take the port from the platform: {_fix(server)}"
    if port == "invalid":
        message = f"$PORT is set but is not a port number (1-65535): {server} cannot serve it"
    elif reference is not None and not bind.port_source.startswith("-"):
        message = (
            f"{server} gets the text {reference!r} as its port (from {bind.port_source}):"
            f" nothing expands variables there, so {server} will not start"
        )
        hint = (
            f"write the port number, or pass it on a command line a shell expands: {_fix(server)}"
        )
    elif reference is not None and server_bind.shell:
        name = reference.strip("${}")  # one with a default (`${PORT:-8080}`) is expanded
        message = (
            f"{server}'s port is {reference}, and {name} is not set: the shell passes"
            f" an empty port and {server} will not start"
        )
        hint = (
            f"set {name} (Cloud Run sets PORT; elsewhere the pod's env or `docker run -e"
            f" {name}=8080`), or give it a default: ${{{name}:-8080}}"
        )
    elif reference is not None:
        message = (
            f"{server} gets the text {reference!r} as its port: no shell runs an exec-form"
            f" CMD to expand it, so {server} will not start"
        )
        hint = (
            'let a shell expand it: CMD ["sh", "-c", "exec ' + server + ' ..."] (`exec` keeps'
            " the server PID 1)"
        )
    elif bind.port is None:
        message = f"{server} will listen on {bind.address!r}, whose port is not a number"
    else:
        message = (
            f"{server} will listen on port {bind.port} (from {bind.port_source}), but $PORT is"
            f" {port}: the platform connects to $PORT"
        )
    return Finding(
        code="PF422",
        check="bind",
        severity=Severity.WARNING,
        message=message,
        name=bind.address,
        file=bind.file,
        line=bind.line,
        hint=hint,
    )


def _fix(server: str) -> str:
    """The flags that meet the contract, in this server's own syntax."""
    if server in {"gunicorn", "hypercorn"}:
        tail = " (or drop --bind: with PORT set, gunicorn's default is 0.0.0.0:$PORT)"
        return '--bind "0.0.0.0:$PORT"' + (tail if server == "gunicorn" else "")
    return '--host 0.0.0.0 --port "$PORT"'


def summary_of(server: ServerBind) -> str:
    """`uvicorn listens on 0.0.0.0:8080` (or the list of binds)."""
    addresses = ", ".join(bind.address for bind in server.binds) or "nothing"
    return f"{server.server} will listen on {addresses}"
