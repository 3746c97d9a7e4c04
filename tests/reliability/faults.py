"""Peers that stall on purpose, on 127.0.0.1: what the deadline torture points the checks at.

Each is a context manager yielding a port. They run in threads of the test process and close
every socket they hold on exit, so a stalled preflight child sees its peer simply go quiet.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


@contextlib.contextmanager
def _serve(handle: Callable[[socket.socket, list[socket.socket]], None]) -> Iterator[int]:
    """Accept connections in a thread and give each to `handle` (in a thread of its own)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            threading.Thread(target=handle, args=(conn, held), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        listener.close()
        for conn in held:
            with contextlib.suppress(OSError):
                conn.close()
        thread.join(timeout=5)


def _hold(conn: socket.socket, _: list[socket.socket]) -> None:
    """Read and drop whatever comes; never answer."""
    with contextlib.suppress(OSError):
        while conn.recv(65536):
            pass


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """Accepts every connection and never says a byte (a black-holed VPC route looks so)."""
    with _serve(_hold) as port:
        yield port


def _headers_then_stall(conn: socket.socket, held: list[socket.socket]) -> None:
    with contextlib.suppress(OSError):
        conn.recv(65536)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\nok"
        )
    _hold(conn, held)


@contextlib.contextmanager
def stalling_http() -> Iterator[int]:
    """Sends a 200's headers and two bytes of a long body, then goes quiet."""
    with _serve(_headers_then_stall) as port:
        yield port


@contextlib.contextmanager
def stalling_postgres_forwarder(target_port: int = 5432, relay_bytes: int = 9) -> Iterator[int]:
    """Relays the client to a real PostgreSQL, but only the server's first bytes back.

    The first 9 bytes are AuthenticationOk; the rest of the handshake (parameter statuses,
    ReadyForQuery) never arrives, so the client stalls mid-handshake.
    """

    def forward(conn: socket.socket, held: list[socket.socket]) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", target_port), timeout=5)
        except OSError:
            return
        held.append(upstream)

        def client_to_server() -> None:
            with contextlib.suppress(OSError):
                while data := conn.recv(65536):
                    upstream.sendall(data)

        threading.Thread(target=client_to_server, daemon=True).start()
        sent = 0
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                if sent < relay_bytes:
                    conn.sendall(data[: relay_bytes - sent])
                    sent += min(len(data), relay_bytes - sent)

    with _serve(forward) as port:
        yield port


#: A `sitecustomize` that makes name resolution of `*.stuck.invalid` block for an hour: the
#: injected DNS failure (a resolver that never answers), for a child started with it on
#: PYTHONPATH (httpx's anyio passes the name as bytes). Blocking `getaddrinfo` runs in an
#: executor thread that cannot be cancelled.
BLOCKING_RESOLVER = """
import socket, time
_real = socket.getaddrinfo
def _blocking(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if isinstance(name, str) and name.endswith("stuck.invalid"):
        time.sleep(3600)
    return _real(host, *args, **kwargs)
socket.getaddrinfo = _blocking
"""


def blocking_resolver_dir(folder: Path) -> Path:
    """Write the blocking `sitecustomize` into `folder`; put it on the child's PYTHONPATH."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(BLOCKING_RESOLVER, encoding="utf-8")
    return folder
