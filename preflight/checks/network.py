"""What went wrong on the wire, once for every check that connects (database, services).

Each check maps these to its own codes (PF701 or PF801 for a refusal); how a socket error
is read — a refusal, a timeout, an unreachable host, a reset, a DNS failure that may or may
not heal, a TLS failure — is decided here only.
"""

from __future__ import annotations

import enum
import errno
import socket
import ssl

#: ENOENT: a unix socket path that does not exist is a server that is not listening.
_REFUSED_ERRNOS = frozenset({errno.ECONNREFUSED, errno.ENOENT})
_UNREACHABLE_ERRNOS = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT})


class NetworkFailure(enum.Enum):
    """A class of connection failure; its value is the words a finding uses."""

    REFUSED = "connection refused"
    TIMEOUT = "no answer in time"
    UNREACHABLE = "the host is unreachable"
    RESET = "the connection was reset or closed"
    DNS_TEMPORARY = "temporary DNS failure"
    DNS_UNKNOWN = "the host name does not resolve"
    TLS = "TLS negotiation or verification failed"

    @property
    def transient(self) -> bool:
        """Whether retrying may heal it (an unknown name or a bad certificate never does)."""
        return self not in {NetworkFailure.DNS_UNKNOWN, NetworkFailure.TLS}


def network_failure(error: BaseException) -> NetworkFailure | None:  # noqa: PLR0911 - a dispatch
    """The class of a connection error, or None when it is not a network error."""
    if isinstance(error, socket.gaierror):
        temporary = error.errno == socket.EAI_AGAIN
        return NetworkFailure.DNS_TEMPORARY if temporary else NetworkFailure.DNS_UNKNOWN
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return NetworkFailure.TLS
    if isinstance(error, TimeoutError):
        return NetworkFailure.TIMEOUT
    if isinstance(error, ConnectionRefusedError):
        return NetworkFailure.REFUSED
    if isinstance(error, OSError):
        if error.errno in _REFUSED_ERRNOS:
            return NetworkFailure.REFUSED
        if error.errno in _UNREACHABLE_ERRNOS:
            return NetworkFailure.UNREACHABLE
        return NetworkFailure.RESET
    return None
