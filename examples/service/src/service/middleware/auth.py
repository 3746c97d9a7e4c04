"""Attach the signed-in user (from the session cookie) to each request.

This is a pure ASGI middleware rather than ``BaseHTTPMiddleware``: it adds no task
or body buffering, and it shows why order matters — it needs ``scope["session"]``,
which only exists when ``SessionMiddleware`` runs *outside* (before) it.
"""

from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

# Paths served without looking at the session (probes must work without cookies).
PUBLIC_PATHS: frozenset[str] = frozenset({"/health"})


class AuthMiddleware:
    """Set ``request.state.user`` from ``session["user"]`` (``None`` when anonymous).

    Routes that need a signed-in user check ``request.state.user`` themselves; this
    middleware only resolves who the caller is.
    """

    def __init__(self, app: ASGIApp, public_paths: Iterable[str] = PUBLIC_PATHS) -> None:
        """Wrap ``app``; requests to ``public_paths`` pass through untouched."""
        self.app = app
        self.public_paths = frozenset(public_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Resolve the user for HTTP and WebSocket requests, then call the wrapped app."""
        if scope["type"] not in ("http", "websocket") or scope["path"] in self.public_paths:
            await self.app(scope, receive, send)
            return

        if "session" not in scope:
            # Fail loudly: a silent "anonymous" here would hide a middleware-order bug.
            raise RuntimeError(
                "AuthMiddleware needs SessionMiddleware installed outside it "
                "(register SessionMiddleware after AuthMiddleware with add_middleware)"
            )
        session: dict[str, Any] = scope["session"]
        user = session.get("user")
        # request.state is backed by scope["state"], so routes see it as request.state.user.
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)
