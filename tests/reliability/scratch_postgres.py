"""A throw-away PostgreSQL cluster for the reliability suite: initdb under a temp dir, a free port.

The shared server on 5432 must not be reconfigured (other tests use it), so tests that need a
server with other settings (a low `max_connections`) make their own and remove it afterwards.
As root, the cluster runs as the `postgres` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


def postgres_bin() -> Path | None:
    """The folder of `initdb` and `pg_ctl` (Debian keeps them off PATH), or None."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextlib.contextmanager
def scratch_cluster(**settings: str) -> Iterator[int]:
    """Run a new cluster with `settings` (postgresql.conf keys); yield its port, then remove it."""
    bindir = postgres_bin()
    if bindir is None:
        msg = "initdb not found (install PostgreSQL's server package)"
        raise RuntimeError(msg)
    base = Path(tempfile.mkdtemp(prefix="preflight-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", free_port()
    subprocess.run(
        _as_postgres(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-N"]
        ),
        check=True,
        capture_output=True,
    )
    conf = {
        "port": str(port),
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{base}'",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        **settings,
    }
    with (data / "postgresql.conf").open("a", encoding="utf-8") as file:
        file.writelines(f"{key} = {value}\n" for key, value in conf.items())
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log")]
    try:
        subprocess.run(
            _as_postgres([*pg_ctl, "-w", "-t", "30", "start"]), check=True, capture_output=True
        )
        yield port
    finally:
        subprocess.run(
            _as_postgres([*pg_ctl, "-m", "immediate", "-w", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)
