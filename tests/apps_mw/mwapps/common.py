"""Middleware shared by the fixture apps: a session subclass and a session reader."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.middleware.sessions import SessionMiddleware

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send


class UvicornCompatibleSessionMiddleware(SessionMiddleware):
    """A real backend's subclass: still a SessionMiddleware for the policy."""


class AuthContextMiddleware:
    """Reads the session on every request; the docstring's request.session does not count."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["user"] = scope["session"].get("user")
        await self.app(scope, receive, send)


class TimingMiddleware:
    """Holds a database session; `self.session` is not the request session."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.session = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # scope["session"] in a comment is not a read either
        await self.app(scope, receive, send)
