"""One attempt at one declared service, per URL scheme, and what its failure means.

A probe either returns (the service answered as expected) or raises `ProbeError`, which
carries the finding code and whether retrying can heal it. Classifying here, next to the
I/O, keeps the retry loop in `services` ignorant of sockets, HTTP and RESP. Probes never
wait on their own: the caller bounds each attempt with a timeout.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from preflight.checks.network import NetworkFailure, network_failure

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from preflight.config import ServiceConfig

BODY_LIMIT = 1 << 20
"""Read at most this much of an HTTP body (a health answer is small; a stream is not)."""

REDIS_PORT = 6379

BAD_PORT = (
    "the port is not a number from 0 to 65535"
    " (a password holding '/', '?' or '#' must be percent-encoded)"
)
"""Said instead of urllib's error, which quotes the text it took for the port."""

_TRANSIENT_REDIS = ("LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN")
"""Redis error prefixes that mean "not yet" rather than "never"."""


class ProbeError(Exception):
    """A failed attempt: the PF8xx code, a one-line detail, and whether a retry may heal it."""

    def __init__(self, code: str, detail: str, *, transient: bool) -> None:
        """Remember the classification; the detail becomes the finding's text."""
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.transient = transient


@dataclass(frozen=True, slots=True)
class Target:
    """Where a service URL points: scheme, host, port, and the Redis credentials and db."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    db: int | None = None


def parse_target(url: str) -> Target:
    """Split a service URL; a URL without a usable host or port is a permanent failure."""
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise ProbeError("PF801", f"invalid URL: {error}", transient=False) from None
    try:
        port = parts.port
    except ValueError:  # urllib quotes the "port": a password's start, if '/?#' is unencoded
        raise ProbeError("PF801", f"invalid URL: {BAD_PORT}", transient=False) from None
    scheme = parts.scheme.lower()
    if not parts.hostname:
        raise ProbeError("PF801", "invalid URL: no host", transient=False)
    if port is None:
        port = {"http": 80, "https": 443, "redis": REDIS_PORT, "rediss": REDIS_PORT}.get(scheme)
    if port is None:
        raise ProbeError("PF801", "invalid URL: tcp:// needs a port", transient=False)
    db_text = parts.path.strip("/")
    db = int(db_text) if db_text.isdigit() else None
    return Target(
        scheme=scheme,
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        db=db,
    )


async def probe(service: ServiceConfig, limit_s: float) -> None:
    """Make one attempt at `service`; raise `ProbeError` (or `TimeoutError`) when it fails."""
    target = parse_target(service.url)
    try:
        if target.scheme in {"http", "https"}:
            await probe_http(service, limit_s)
        elif target.scheme in {"redis", "rediss"}:
            await probe_redis(target)
        else:
            await probe_tcp(target)
    except ProbeError:
        raise
    except TimeoutError:
        raise
    except (OSError, asyncio.IncompleteReadError) as error:
        raise classify_os_error(error) from None


async def probe_tcp(target: Target) -> None:
    """Connect, then close: the port accepts connections."""
    _, writer = await asyncio.open_connection(target.host, target.port)
    writer.close()
    await writer.wait_closed()


def classify_os_error(error: BaseException) -> ProbeError:
    """Map a socket-level error to its code; DNS NXDOMAIN and TLS never heal by retrying."""
    text = f"{type(error).__name__}: {error}"
    failure = network_failure(error) or NetworkFailure.RESET
    return ProbeError(
        _NETWORK_CODES[failure], f"{failure.value} ({text})", transient=failure.transient
    )


_NETWORK_CODES = {
    NetworkFailure.REFUSED: "PF801",
    NetworkFailure.TIMEOUT: "PF802",
    NetworkFailure.UNREACHABLE: "PF802",
    NetworkFailure.RESET: "PF808",
    NetworkFailure.DNS_TEMPORARY: "PF805",
    NetworkFailure.DNS_UNKNOWN: "PF805",
    NetworkFailure.TLS: "PF807",
}


def os_error_in(error: BaseException) -> OSError | None:
    """The innermost `OSError` of an exception's cause/context chain.

    httpx wraps the socket's error, and anyio wraps a refusal once more in a bare
    `OSError("All connection attempts failed")`: the innermost one says what happened.
    """
    found: OSError | None = None
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError):
            found = current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return found


async def probe_http(service: ServiceConfig, limit_s: float) -> None:
    """GET the URL without following redirects; check the status, then the body."""
    import httpx  # noqa: PLC0415 - only this probe needs it; `preflight.cli` must stay light

    # trust_env=False: the check must not depend on proxy variables of preflight's own
    # process (the app's environment is `ctx.environ`, and services are usually internal).
    async with httpx.AsyncClient(
        follow_redirects=False, timeout=httpx.Timeout(limit_s), trust_env=False
    ) as client:
        try:
            async with client.stream("GET", service.url) as response:
                check_status(response.status_code, service.expect_status)
                body = await read_body(response.aiter_bytes())
        except httpx.TimeoutException as error:
            raise ProbeError(
                "PF802", f"timed out ({type(error).__name__})", transient=True
            ) from None
        except httpx.TransportError as error:
            cause = os_error_in(error)
            if cause is not None:
                raise classify_os_error(cause) from None
            text = f"{type(error).__name__}: {error}"
            raise ProbeError("PF808", f"connection failed ({text})", transient=True) from None
    check_body(body, service.expect_body)


async def read_body(chunks: AsyncIterator[bytes]) -> bytes:
    """Read up to `BODY_LIMIT` bytes of an async byte stream."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) >= BODY_LIMIT:
            break
    return bytes(body[:BODY_LIMIT])


def check_status(status: int, expected: tuple[int, ...]) -> None:
    """Pass `expected` statuses (default 2xx/3xx); 5xx and 429 may heal, the rest not."""
    ok = status in expected if expected else 200 <= status < 400  # noqa: PLR2004
    if ok:
        return
    wanted = ", ".join(map(str, expected)) if expected else "2xx/3xx"
    transient = status >= 500 or status == 429  # noqa: PLR2004
    raise ProbeError("PF803", f"HTTP status {status}, expected {wanted}", transient=transient)


def check_body(body: bytes, expected: str | None) -> None:
    """The body must contain `expected` (decoded leniently as UTF-8)."""
    if expected is None or expected in body.decode("utf-8", errors="replace"):
        return
    raise ProbeError("PF804", f"HTTP body lacks {expected!r}", transient=False)


def resp_command(*words: str) -> bytes:
    """Encode one command as a RESP array of bulk strings."""
    out = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


async def probe_redis(target: Target) -> None:
    """AUTH (if a password is given), SELECT (if a db is given), PING; expect +PONG."""
    context = ssl.create_default_context() if target.scheme == "rediss" else None
    reader, writer = await asyncio.open_connection(target.host, target.port, ssl=context)
    try:
        if target.password is not None:
            user = (target.username,) if target.username else ()
            await redis_call(reader, writer, resp_command("AUTH", *user, target.password))
        if target.db:
            await redis_call(reader, writer, resp_command("SELECT", str(target.db)))
        reply = await redis_call(reader, writer, resp_command("PING"))
        if reply != "+PONG":
            raise ProbeError("PF806", f"PING answered {reply[:80]!r}", transient=False)
    finally:
        writer.close()
        await writer.wait_closed()


async def redis_call(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cmd: bytes) -> str:
    """Send one command and read its one-line reply; an error reply becomes PF806."""
    writer.write(cmd)
    await writer.drain()
    line = await reader.readline()
    if not line:
        raise ProbeError("PF808", "Redis closed the connection", transient=True)
    reply = line.decode("utf-8", errors="replace").rstrip("\r\n")
    if reply.startswith("-"):
        message = reply[1:]
        transient = message.startswith(_TRANSIENT_REDIS)
        raise ProbeError("PF806", f"Redis replied {message[:200]!r}", transient=transient)
    return reply
