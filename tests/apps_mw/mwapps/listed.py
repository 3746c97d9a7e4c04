"""Starlette with middleware=[...]: the list is outermost first; a function-based middleware."""

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware


async def auth_dispatch(request, call_next):
    request.state.user = request.session.get("user")
    return await call_next(request)


app = Starlette(
    middleware=[
        Middleware(GZipMiddleware),
        Middleware(SessionMiddleware, secret_key="fixture-session-key-3"),  # noqa: S106 - fixture
        Middleware(BaseHTTPMiddleware, dispatch=auth_dispatch),
    ]
)
