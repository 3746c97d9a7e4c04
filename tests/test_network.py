"""How a connection error is read, once for the database and services checks."""

from __future__ import annotations

import errno
import socket
import ssl

import pytest

from preflight.checks.network import NetworkFailure, network_failure


@pytest.mark.parametrize(
    ("error", "failure", "transient"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), NetworkFailure.REFUSED, True),
        (FileNotFoundError(errno.ENOENT, "no socket file"), NetworkFailure.REFUSED, True),
        (TimeoutError(), NetworkFailure.TIMEOUT, True),
        (OSError(errno.EHOSTUNREACH, "no route"), NetworkFailure.UNREACHABLE, True),
        (ConnectionResetError(errno.ECONNRESET, "reset"), NetworkFailure.RESET, True),
        (socket.gaierror(socket.EAI_AGAIN, "try again"), NetworkFailure.DNS_TEMPORARY, True),
        (socket.gaierror(socket.EAI_NONAME, "unknown"), NetworkFailure.DNS_UNKNOWN, False),
        (ssl.SSLCertVerificationError("bad cert"), NetworkFailure.TLS, False),
    ],
)
def test_connection_errors_are_classified(
    error: BaseException, failure: NetworkFailure, transient: bool
) -> None:
    assert network_failure(error) is failure
    assert failure.transient is transient


def test_other_errors_are_not_network_failures() -> None:
    assert network_failure(ValueError("bad DSN")) is None
    assert network_failure(KeyError("x")) is None
