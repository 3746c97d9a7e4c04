#!/bin/sh
# entrypoint.sh: run preflight's checks, then become the server (same PID, so the server is
# PID 1, or tini's child, and gets the platform's SIGTERM). The image's CMD is the server
# command; on a failed check the container exits with preflight's code and the server never
# starts. In a Dockerfile:
#
#   COPY entrypoint.sh /app/entrypoint.sh
#   ENTRYPOINT ["/app/entrypoint.sh"]
#   CMD ["sh", "-c", "exec gunicorn service.main:app -k uvicorn_worker.UvicornWorker -b 0.0.0.0:$PORT"]
#
# Configuration comes from the working directory's pyproject.toml ([tool.preflight]) or
# preflight.toml, and from PREFLIGHT_* variables (PREFLIGHT_BUDGET=10s, PREFLIGHT_STRICT=1,
# PREFLIGHT_ONLY=imports,database, PREFLIGHT_CONFIG=/app/pyproject.toml, ...), which pass
# through unchanged. PREFLIGHT_DISABLE=1 skips the checks and starts the server at once
# (logged as a warning). `python` must be the interpreter preflight is installed in.
set -eu

if [ "$#" -eq 0 ]; then
    echo "Error: entrypoint.sh needs the server command (the image's CMD), e.g. uvicorn app:app" >&2
    exit 2
fi

exec python -m preflight run -- "$@"
