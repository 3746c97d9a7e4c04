"""Build the FastAPI app: settings, database lifespan, middleware and routers."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from service.config import Settings, get_settings
from service.db import close_pool, create_pool
from service.middleware import AuthMiddleware
from service.routers import health, items


def make_lifespan(
    settings: Settings,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Return a lifespan that opens the asyncpg pool at start-up and closes it at shutdown.

    The pool is created only when ``DATABASE_URL`` is set, so the service (and
    preflight's import and app checks) work without a database.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await create_pool(settings.database_url) if settings.database_url else None
        try:
            yield
        finally:
            await close_pool(app.state.pool)
            app.state.pool = None

    return lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    """Create the app; ``settings`` defaults to the environment (tests may pass their own)."""
    settings = settings or get_settings()
    app = FastAPI(title="example-service", version="0.1.0", lifespan=make_lifespan(settings))

    # Starlette wraps the app in reverse registration order: the LAST add_middleware
    # call becomes the OUTERMOST layer. The wanted order, outermost first, is
    #   CORSMiddleware -> TrustedHostMiddleware -> SessionMiddleware -> AuthMiddleware
    # (Auth reads the session, so Session must be outside it), hence the calls below
    # go innermost first. app.user_middleware lists them outermost first.
    app.add_middleware(AuthMiddleware)
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret.get_secret_value())
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
    )

    app.include_router(health.router)
    app.include_router(items.router)
    return app
